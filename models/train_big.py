#!/usr/bin/env python3
"""Train the big tier of the fxpq zoo: ResNet-18- and VGG-size Fashion-MNIST networks (>= 10 M
parameters each), for the real-network scale work (search speed, kernels, compression).

Run from the repository root, by hand (the same Debian packages as models/train_zoo.py):

    apt-get install -y --no-install-recommends python3-torch python3-onnx dataset-fashion-mnist \
        libopenblas0-pthread   # without OpenBLAS, Debian's torch runs dense layers ~25x slower
    /usr/bin/python3 models/train_big.py [--models resnet18,vgg11w] [--epochs 5]
        [--ckpt-dir /var/tmp/fxpq-big-ckpt] [--threads 2]

Training is resumable: after every epoch the model, optimizer, scheduler and RNG state go to
--ckpt-dir, and a re-run continues from the last finished epoch (a 2-core machine takes about
15-25 minutes per epoch and model, so a run may span several sittings).

Outputs, per model, under models/big/:
    NAME.f16.onnx   the exported graph (opset 13, BN folded) with float16 initializers: the
                    compact, committed form (half the bytes of float32)
    NAME.json       architecture, parameters, MACs, epochs, training time, and the float top-1 on
                    all 10,000 test images of the float16-rounded network (the one fxpq sees)
`node dist/bench/big-zoo.js` (bench/big-zoo.ts) rebuilds NAME.onnx with float32 initializers
from NAME.f16.onnx; the big-tier benches and tests read that, never the default test run.

Deterministic: torch.manual_seed(0), numpy seed 0, fixed thread count,
torch.use_deterministic_algorithms(True).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train_zoo import BasicBlock, load_fmnist, to_float, inline_identity_initializers, run_onnx_numpy  # noqa: E402

OUT_DIR = os.path.join(HERE, "big")
OPSET = 13
BATCH = 128


class ResNet18(nn.Module):
    """ResNet-18's block layout [2, 2, 2, 2] and widths 64-128-256-512 (11.2 M parameters), with a
    3x3 stem and a 2x2 max pool (28 -> 14), the small-image form of ImageNet's 7x7/2 stem + pool."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        widths, layers, cin = [64, 128, 256, 512], [], 64
        for i, w in enumerate(widths):
            layers += [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


def cbr(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class VGG11W(nn.Module):
    """A plain VGG-style network: six 3x3 convolutions with BN (64-64, 128-128, 256-256, a 2x2 max
    pool after each pair) and a wide classifier 2304-2560-2048-10 with dropout (12.3 M parameters,
    90 % of them in the dense layers, as in VGG-16)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*cbr(1, 64), *cbr(64, 64), nn.MaxPool2d(2),
                                      *cbr(64, 128), *cbr(128, 128), nn.MaxPool2d(2),
                                      *cbr(128, 256), *cbr(256, 256), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(256 * 3 * 3, 2560), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(2560, 2048), nn.ReLU(), nn.Dropout(0.5), nn.Linear(2048, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


MODELS = {
    "resnet18": (ResNet18, "ResNet-18 layout: Conv3x3(1->64)-BN-ReLU-MaxPool2 stem; BasicBlocks 64, 64, 128/s2, 128, "
                           "256/s2, 256, 512/s2, 512 (1x1conv-BN shortcut where the shape changes), GlobalAveragePool, FC512-10"),
    "vgg11w": (VGG11W, "[Conv3x3-BN-ReLU x2, MaxPool2] with 64, 128, 256 channels, Flatten, FC2304-2560, ReLU, Dropout, "
                       "FC2560-2048, ReLU, Dropout, FC2048-10"),
}


def augment(xb, gen):
    """Random crops with 2 pixels of zero padding and horizontal flips (every Fashion-MNIST class
    is left-right symmetric in meaning)."""
    n = xb.shape[0]
    padded = F.pad(xb, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(xb)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


def train(name, model, xtr, ytr, xte, yte, epochs, ckpt_dir):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    steps = (len(xtr) + BATCH - 1) // BATCH
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * steps, pct_start=0.25)
    ckpt = os.path.join(ckpt_dir, f"{name}.pt")
    start, seconds = 0, 0.0
    if os.path.exists(ckpt):
        s = torch.load(ckpt)
        if s["epochs"] == epochs:
            model.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); sched.load_state_dict(s["sched"])
            gen.set_state(s["gen"]); torch.set_rng_state(s["rng"])
            start, seconds = s["done"], s["seconds"]
            print(f"[{name}] resuming after epoch {start}/{epochs}", flush=True)
    for ep in range(start, epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        t0, tot, correct, loss_sum = time.time(), 0, 0, 0.0
        for k, i in enumerate(range(0, len(xtr), BATCH)):
            idx = perm[i:i + BATCH]
            xb, yb = augment(xtr[idx], gen), ytr[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            tot += len(idx)
            if k % 50 == 0:
                el = time.time() - t0
                eta = el / (k + 1) * (steps - k - 1)
                print(f"  [{name}] epoch {ep + 1}/{epochs} step {k}/{steps} loss {loss_sum / tot:.4f} "
                      f"train-acc {100 * correct / tot:.2f}% ETA {eta / 60:.1f} min", flush=True)
        seconds += time.time() - t0
        acc = top1(model, xte, yte)
        print(f"[{name}] epoch {ep + 1}/{epochs}: train-acc {100 * correct / tot:.2f}%, test top-1 {acc:.2f}% "
              f"({time.time() - t0:.0f} s)", flush=True)
        os.makedirs(ckpt_dir, exist_ok=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "gen": gen.get_state(),
                    "rng": torch.get_rng_state(), "done": ep + 1, "epochs": epochs, "seconds": seconds}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    return seconds


@torch.no_grad()
def predict(model, x, bs=500):
    model.eval()
    return torch.cat([model(x[i:i + bs]) for i in range(0, len(x), bs)]).numpy()


def top1(model, x, y):
    return 100.0 * float((predict(model, x).argmax(1) == y.numpy()).mean())


def export_f16(model, name):
    """Exports with BN folded (eval mode), then stores every float initializer as float16; returns
    the float16-rounded network's float32 ONNX (what fxpq rebuilds) for the accuracy check."""
    model.eval()
    path = os.path.join(OUT_DIR, f"{name}.f32.tmp.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=OPSET, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(path)
    os.remove(path)
    inline_identity_initializers(m)
    onnx.checker.check_model(m)
    rounded = onnx.ModelProto()
    rounded.CopyFrom(m)
    for i, init in enumerate(m.graph.initializer):
        a = numpy_helper.to_array(init)
        if a.dtype == np.float32:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a.astype(np.float16), init.name))
            rounded.graph.initializer[i].CopyFrom(numpy_helper.from_array(a.astype(np.float16).astype(np.float32), init.name))
    onnx.save(m, os.path.join(OUT_DIR, f"{name}.f16.onnx"))
    return rounded


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet18,vgg11w")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-dir", default="/var/tmp/fxpq-big-ckpt")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.use_deterministic_algorithms(True)
    np.random.seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    xtr8, ytr, xte8, yte = load_fmnist()
    xtr, xte = torch.from_numpy(to_float(xtr8)), torch.from_numpy(to_float(xte8))
    ytr_t, yte_t = torch.from_numpy(ytr), torch.from_numpy(yte)
    for name in a.models.split(","):
        cls, desc = MODELS[name]
        torch.manual_seed(0)
        model = cls()
        params = sum(p.numel() for p in model.parameters())
        print(f"[{name}] {params:,} parameters", flush=True)
        seconds = train(name, model, xtr, ytr_t, xte, yte_t, a.epochs, a.ckpt_dir)
        acc32 = top1(model, xte, yte_t)
        rounded = export_f16(model, name)
        # The accuracy fxpq sees: the exported graph (BN folded) with float16-rounded weights, run by
        # train_zoo's independent NumPy interpreter, not by torch.
        xs = to_float(xte8)
        logits = np.concatenate([run_onnx_numpy(rounded, {"input": xs[i:i + 500]})[0] for i in range(0, len(xs), 500)])
        acc16 = 100.0 * float((logits.argmax(1) == yte).mean())
        gap = float(np.abs(logits[:500] - predict(model, xte[:500])).max())
        info = {"name": name, "description": desc, "parameters": params, "epochs": a.epochs, "train_seconds": round(seconds),
                "threads": a.threads, "top1_float32": round(acc32, 2), "top1_float16_weights": round(acc16, 2), "max_abs_logit_diff_f16_vs_torch_500": gap,
                "torch": torch.__version__, "onnx_initializers": len(rounded.graph.initializer)}
        with open(os.path.join(OUT_DIR, f"{name}.json"), "w") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
