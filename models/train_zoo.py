#!/usr/bin/env python3
"""Train and export the fxpq "model zoo": four small Fashion-MNIST CNNs as ONNX.

Run from the repository root, by hand:

    /usr/bin/python3 models/train_zoo.py

(Use /usr/bin/python3: it is the interpreter that has the Debian packages
python3-torch, python3-torchvision, python3-onnx installed; see models/README.md.)

Optional flags:
    --reuse-checkpoints   reuse trained weights cached in --ckpt-dir (skip training
                          a model whose checkpoint is already there)
    --ckpt-dir DIR        checkpoint cache (default /tmp/fxpq-zoo-ckpt; not in the repo)

Outputs (all under models/):
    mlp.onnx lenet5.onnx vgg_bn.onnx resnet8.onnx
    data/test_x.npy data/test_y.npy data/test_x_u8.npy
    data/calib_x.npy data/calib_y.npy data/calib_idx.npy
    zoo.json README.md

Inputs to every model: float32 NCHW [N,1,28,28], value = pixel/255 in [0,1],
no mean/std normalisation. Opset 13, input "input", output "logits" (raw logits,
no softmax), dynamic batch axis.

Deterministic: torch.manual_seed(0) / numpy seed 0, 2 CPU threads,
torch.use_deterministic_algorithms(True).

The exported graphs are checked with onnx.checker and executed by a small
independent NumPy interpreter (onnx 1.12 in Debian has no onnx.reference and
onnxruntime is not installed); its output must match torch within 1e-4.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# epochs chosen so the whole run stays under ~25 min on 2 CPU cores
EPOCHS = {"mlp": 10, "lenet5": 10, "vgg_bn": 6, "resnet8": 5, "mobilenet": 6}
LR = 1e-3
BATCH = 128
OPSET = 13


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------
def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        buf = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", buf[:4])
    assert zero == 0 and dtype_code == 0x08, "expected unsigned-byte IDX file"
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    arr = np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims))
    return arr.reshape(dims).copy()


def find_idx(stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(FMNIST_DIR, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{stem}(.gz) not found in {FMNIST_DIR}; "
                            "apt-get install dataset-fashion-mnist")


def load_fmnist():
    xtr = read_idx(find_idx("train-images-idx3-ubyte"))
    ytr = read_idx(find_idx("train-labels-idx1-ubyte"))
    xte = read_idx(find_idx("t10k-images-idx3-ubyte"))
    yte = read_idx(find_idx("t10k-labels-idx1-ubyte"))
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    return (xtr[:, None], ytr.astype(np.int64), xte[:, None], yte.astype(np.int64))


def to_float(u8):
    # exactly np.float32(pixel) / np.float32(255)
    return u8.astype(np.float32) / np.float32(255)


# ----------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(),
                                 nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            # count_include_pad=False changes nothing numerically (padding=0) but stops
            # torch 1.13's opset-11+ exporter from emitting an all-zero Pad before AveragePool
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2, count_include_pad=False),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    def forward(self, x):
        return self.net(x)


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class VGGBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(1, 16), *conv_bn_relu(16, 16), nn.MaxPool2d(2),
            *conv_bn_relu(16, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
            *conv_bn_relu(32, 64), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 3 * 3, 128), nn.ReLU6(),
            nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.layer3 = BasicBlock(32, 64, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(self.flatten(self.pool(x)))


def dw_sep(cin, cout, stride):
    """Depthwise-separable block: depthwise 3x3 (group = channels)-BN-ReLU6, pointwise 1x1-BN-ReLU6."""
    return [nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU6(),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]


class MobileNetS(nn.Module):
    """A small MobileNet: depthwise-separable blocks, and one block whose two branches (a
    depthwise-separable one and a pointwise one) are joined by a channel concatenation."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.blocks = nn.Sequential(*dw_sep(16, 32, 1), *dw_sep(32, 48, 2))
        self.branch_a = nn.Sequential(*dw_sep(48, 32, 1))
        self.branch_b = nn.Sequential(nn.Conv2d(48, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6())
        self.head = nn.Sequential(*dw_sep(64, 64, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = torch.cat([self.branch_a(x), self.branch_b(x)], 1)
        return self.fc(self.flatten(self.pool(self.head(x))))


MODELS = [
    ("mlp", MLP, "Flatten -> FC784-128 -> ReLU -> FC128-64 -> ReLU -> FC64-10"),
    ("lenet5", LeNet5, "Conv5x5(1->6,pad2) -> ReLU -> AvgPool2 -> Conv5x5(6->16) -> ReLU -> "
                       "MaxPool2 -> Flatten -> FC400-120 -> ReLU -> FC120-84 -> ReLU -> FC84-10"),
    ("vgg_bn", VGGBN, "[Conv3x3(1->16)-BN-ReLU, Conv3x3(16->16)-BN-ReLU, MaxPool2], "
                      "[Conv3x3(16->32)-BN-ReLU, Conv3x3(32->32)-BN-ReLU, MaxPool2], "
                      "[Conv3x3(32->64)-BN-ReLU, MaxPool2] -> Flatten -> Dropout(0.3) -> "
                      "FC576-128 -> ReLU6 -> FC128-10; BN kept as BatchNormalization nodes"),
    ("resnet8", ResNet8, "Conv3x3(1->16)-BN-ReLU stem; BasicBlocks 16/s1, 32/s2, 64/s2 "
                         "(conv3x3-BN-ReLU-conv3x3-BN + identity or 1x1conv-BN shortcut, Add, ReLU) "
                         "-> GlobalAveragePool -> Flatten -> FC64-10; BN folded into Conv on export"),
    ("mobilenet", MobileNetS, "Conv3x3(1->16,s2)-BN-ReLU6 stem; depthwise-separable blocks "
                              "(DW3x3-BN-ReLU6, PW1x1-BN-ReLU6) 16->32, 32->48/s2; two branches, "
                              "DW-separable 48->32 and PW1x1 48->32, joined by Concat (64 channels); "
                              "DW-separable 64->64/s2 -> GlobalAveragePool -> Flatten -> FC64-10; "
                              "BN folded into Conv on export"),
]


# ----------------------------------------------------------------------------
# training / evaluation
# ----------------------------------------------------------------------------
def train(model, xtr, ytr, epochs, name):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    steps_per_epoch = (len(xtr) + BATCH - 1) // BATCH
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        tot, correct, loss_sum, t0 = 0, 0, 0.0, time.time()
        for i in range(0, len(xtr), BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = xtr[idx], ytr[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            tot += len(idx)
        print(f"  [{name}] epoch {ep + 1}/{epochs} loss {loss_sum / tot:.4f} "
              f"train-acc {100 * correct / tot:.2f}% ({time.time() - t0:.1f}s)", flush=True)


@torch.no_grad()
def predict(model, x, bs=1000):
    model.eval()
    outs = [model(x[i:i + bs]) for i in range(0, len(x), bs)]
    return torch.cat(outs).numpy()


def count_macs(model):
    macs = []

    def conv_hook(m, inp, out):
        cout, hout, wout = out.shape[1:]
        kh, kw = m.kernel_size
        macs.append(cout * hout * wout * (m.in_channels // m.groups) * kh * kw)

    def lin_hook(m, inp, out):
        macs.append(m.in_features * m.out_features)

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hooks:
        h.remove()
    return int(sum(macs))


def params_bn_folded(model):
    """Conv/Linear weights + biases as they are after folding BN into the conv
    (a bias-free conv followed by BN gains a bias of Cout)."""
    n = 0
    mods = list(model.modules())
    for m in mods:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            n += m.weight.numel()
            if m.bias is not None:
                n += m.bias.numel()
            else:
                n += m.weight.shape[0]  # every bias-free conv here is followed by BN
    return n


# ----------------------------------------------------------------------------
# tiny NumPy ONNX interpreter (independent check of the exported graphs)
# ----------------------------------------------------------------------------
def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pad_input(x, pads, value=0.0):
    nd = len(pads) // 2
    if not any(pads):
        return x
    widths = [(0, 0), (0, 0)] + [(pads[i], pads[i + nd]) for i in range(nd)]
    return np.pad(x, widths, mode="constant", constant_values=value)


def _windows(x, kh, kw, sh, sw):
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, ho, wo, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]), writeable=False)


def _conv(x, w, b, a):
    group = a.get("group", 1)
    assert tuple(a.get("dilations", [1, 1])) == (1, 1)
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    x = _pad_input(x, a.get("pads", [0, 0, 0, 0]))
    win = _windows(x, kh, kw, sh, sw).astype(np.float64)  # n,c,ho,wo,kh,kw
    cout = w.shape[0]
    cin_g, cout_g = x.shape[1] // group, cout // group
    outs = []
    for g in range(group):
        wg = w[g * cout_g:(g + 1) * cout_g].astype(np.float64)
        outs.append(np.einsum("nchwij,ocij->nohw", win[:, g * cin_g:(g + 1) * cin_g], wg, optimize=True))
    y = np.concatenate(outs, axis=1)
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return y.astype(np.float32)


def _pool(x, a, kind):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    assert a.get("ceil_mode", 0) == 0
    if kind == "max":
        win = _windows(_pad_input(x, pads, -np.inf), kh, kw, sh, sw)
        return win.max(axis=(4, 5))
    win = _windows(_pad_input(x, pads), kh, kw, sh, sw).astype(np.float64)
    if any(pads) and not a.get("count_include_pad", 0):
        ones = _windows(_pad_input(np.ones_like(x[:1, :1]), pads), kh, kw, sh, sw).sum(axis=(4, 5))
        return (win.sum(axis=(4, 5)) / ones).astype(np.float32)
    return win.mean(axis=(4, 5)).astype(np.float32)


def run_onnx_numpy(model_proto, feeds):
    env = {i.name: numpy_helper.to_array(i) for i in model_proto.graph.initializer}
    env.update(feeds)
    env[""] = None
    for node in model_proto.graph.node:
        a = _attrs(node)
        ins = [env[i] if i in env else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            out = [numpy_helper.to_array(a["value"])]
        elif op == "Conv":
            out = [_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)]
        elif op == "Gemm":
            A, B = ins[0].astype(np.float64), ins[1].astype(np.float64)
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2].astype(np.float64)
            out = [y.astype(np.float32)]
        elif op == "MatMul":
            out = [(ins[0].astype(np.float64) @ ins[1].astype(np.float64)).astype(np.float32)]
        elif op == "Relu":
            out = [np.maximum(ins[0], 0).astype(np.float32)]
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get("min", -np.inf)
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get("max", np.inf)
            out = [np.clip(ins[0], lo, hi).astype(np.float32)]
        elif op == "Add":
            out = [(ins[0] + ins[1]).astype(np.float32)]
        elif op == "Concat":
            out = [np.concatenate(ins, axis=a.get("axis", 1))]
        elif op == "MaxPool":
            out = [_pool(ins[0], a, "max")]
        elif op == "AveragePool":
            out = [_pool(ins[0], a, "avg")]
        elif op == "GlobalAveragePool":
            out = [ins[0].astype(np.float64).mean(axis=(2, 3), keepdims=True).astype(np.float32)]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            out = [ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)]
        elif op == "Reshape":
            shape = [ins[0].shape[i] if s == 0 else int(s) for i, s in enumerate(ins[1])]
            out = [ins[0].reshape(shape)]
        elif op == "BatchNormalization":
            x, sc, bi, mu, var = ins[:5]
            assert not a.get("training_mode", 0)
            eps = a.get("epsilon", 1e-5)
            sh = (1, -1, 1, 1)
            y = (x - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * sc.reshape(sh) + bi.reshape(sh)
            out = [y.astype(np.float32)]
        elif op in ("Dropout", "Identity"):
            training = bool(ins[2]) if op == "Dropout" and len(ins) > 2 and ins[2] is not None else False
            assert not training, "Dropout in training mode in exported graph"
            out = [ins[0], np.ones_like(ins[0], dtype=bool)]
        else:
            raise NotImplementedError(f"numpy ONNX interpreter: op {op}")
        for name, val in zip(node.output, out):
            if name:
                env[name] = val
    return [env[o.name] for o in model_proto.graph.output]


# ----------------------------------------------------------------------------
# export + inspection
# ----------------------------------------------------------------------------
def export(model, name, path):
    model.eval()
    kwargs = dict(opset_version=OPSET, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    if name == "vgg_bn":
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE  # keep BatchNormalization nodes
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, **kwargs)
    model.eval()
    m = onnx.load(path)
    n_inlined = inline_identity_initializers(m)
    if n_inlined:
        print(f"  inlined {n_inlined} Identity(initializer) nodes", flush=True)
        onnx.save(m, path)
    onnx.checker.check_model(m)
    return m, n_inlined


def inline_identity_initializers(m):
    """torch.onnx de-duplicates bit-identical initializers and re-creates the
    duplicates with Identity nodes (happens e.g. when a BN weight equals its
    running_var). Replace such Identity nodes by a copy of the initializer so the
    graph has only real compute nodes. Returns how many were replaced."""
    inits = {i.name: i for i in m.graph.initializer}
    keep, count = [], 0
    for node in m.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            arr = numpy_helper.to_array(inits[node.input[0]])
            m.graph.initializer.append(numpy_helper.from_array(arr, node.output[0]))
            count += 1
        else:
            keep.append(node)
    if count:
        del m.graph.node[:]
        m.graph.node.extend(keep)
    return count


def graph_info(m):
    ops = sorted({n.op_type for n in m.graph.node})
    float_inits = [i for i in m.graph.initializer if i.data_type == onnx.TensorProto.FLOAT]
    params = int(sum(int(np.prod(i.dims)) for i in float_inits))
    n_scalar = int(sum(1 for i in float_inits if len(i.dims) == 0))
    raw = all(i.HasField("raw_data") for i in m.graph.initializer)
    const_nodes = sum(1 for n in m.graph.node if n.op_type == "Constant")
    return dict(ops=ops, params=params, scalar_float_initializers=n_scalar,
                initializers_raw_data=raw, initializers=len(m.graph.initializer),
                constant_nodes=const_nodes, nodes=len(m.graph.node))


# ----------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------
def write_readme(zoo, calib_idx):
    arch = {n: d for n, _, d in MODELS}
    lines = []
    w = lines.append
    w("# fxpq model zoo (Fashion-MNIST)")
    w("")
    count = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight"][len(zoo) - 1]
    w(f"{count} small CNN/MLP classifiers trained with PyTorch on Fashion-MNIST and exported to ONNX,")
    w("plus small NumPy data subsets, for exercising and benchmarking the fixed-point quantizer.")
    w("Everything here is generated by `models/train_zoo.py` (deterministic; see *Regenerating*).")
    w("")
    w("## Input / output convention (all models)")
    w("")
    w("- input `input`: float32, NCHW `[batch, 1, 28, 28]`, value = `pixel / 255` (in [0, 1]);"
      " **no** mean/std normalisation. Batch axis is dynamic (`batch`).")
    w("- output `logits`: float32 `[batch, 10]`, raw logits (no softmax); class = argmax.")
    w("- classes: " + ", ".join(f"{i} {c}" for i, c in enumerate(CLASSES)) + ".")
    w(f"- ONNX opset {OPSET}, exported by torch {torch.__version__} (onnx {onnx.__version__});"
      " every file passes `onnx.checker.check_model`.")
    w("")
    w("## Models")
    w("")
    for z in zoo:
        w(f"- **{z['name']}** (`{z['file']}`): {arch[z['name']]}.")
    w("")
    w("| model | file | ONNX ops | params | MACs / image | float top-1 (full 10k test) "
      "| float top-1 (`data/test_x.npy`, 1000) | epochs |")
    w("|---|---|---|---:|---:|---:|---:|---:|")
    for z in zoo:
        p = f"{z['params']:,}"
        if z["has_batchnorm_nodes"]:
            p += f" ({z['params_bn_folded']:,} BN-folded)"
        w(f"| {z['name']} | `{z['file']}` | {', '.join(z['ops'])} | {p} | {z['macs']:,} "
          f"| {z['float_top1_full_test']:.2f}% | {z['float_top1_test_1000']:.2f}% | {z['train_epochs']} |")
    w("")
    w("Notes:")
    w("")
    w("- *params* = total size of the float initializers in the exported graph. In `vgg_bn.onnx` the")
    w("  BatchNormalization nodes are kept (exported with `training=TrainingMode.PRESERVE`), so its count")
    w("  includes the BN scale/bias/mean/var and the convolutions have no bias; the figure in brackets is")
    w("  the Conv/Gemm weight+bias count once BN is folded into the convolutions. `resnet8.onnx` is")
    w("  exported in plain eval mode, so its BN layers are already folded into Conv weights/biases.")
    w("- *MACs* count only Conv (`Cout*Hout*Wout*Cin/groups*kh*kw`) and Gemm (`in*out`); pooling,")
    w("  BN, activations and Add are not counted.")
    w("- Accuracies are computed with PyTorch in eval mode; the exported graphs were additionally")
    w("  executed by an independent NumPy interpreter (in `train_zoo.py`) and agree with PyTorch to")
    w("  within 1e-4 on the logits (max abs diff per model in `zoo.json`).")
    w("- `vgg_bn`: `nn.ReLU6` is exported as `Clip(min=0, max=6)` (opset 13: min/max are inputs);")
    w("  `Dropout` is removed by the exporter in eval mode. `AdaptiveAvgPool2d(1)` in `resnet8`")
    w("  becomes `GlobalAveragePool`; `Flatten`+`Linear` become `Flatten`+`Gemm`.")
    w("- `lenet5` uses `AvgPool2d(2, count_include_pad=False)`: identical maths (no padding), but with the")
    w("  default `count_include_pad=True` torch 1.13 (opset >= 11) emits a useless all-zero `Pad` node")
    w("  before the `AveragePool`.")
    w("- torch.onnx de-duplicates bit-identical initializers and re-creates the copies through `Identity`")
    w("  nodes; `train_zoo.py` replaces any such `Identity(initializer)` by a real initializer copy, so")
    w("  the graphs contain only compute nodes (count per model: `identity_nodes_inlined` in `zoo.json`).")
    w("- All initializers are float32 tensors stored in `raw_data` (little-endian); the two `Clip`")
    w("  bounds in `vgg_bn` are `Constant` nodes (float32 scalars), not initializers.")
    w("- Graph details (node/initializer counts, `raw_data` storage) are in `zoo.json`.")
    w("")
    w("## Data subsets (`models/data/`, NumPy `.npy`, load with `np.load`)")
    w("")
    w("| file | dtype | shape | content |")
    w("|---|---|---|---|")
    w("| `test_x.npy` | float32 | [1000,1,28,28] | the **first 1000** images (indices 0..999) of the "
      "Fashion-MNIST **test** split (`t10k`), `np.float32(pixel) / np.float32(255)` |")
    w("| `test_y.npy` | int64 | [1000] | their labels |")
    w("| `test_x_u8.npy` | uint8 | [1000,1,28,28] | the same 1000 images, raw pixels "
      "(`test_x == test_x_u8 / 255` exactly in float32) |")
    w("| `calib_x.npy` | float32 | [512,1,28,28] | 512 images from the **train** split, "
      "pixel/255, for calibration |")
    w("| `calib_y.npy` | int64 | [512] | their labels |")
    w("| `calib_idx.npy` | int64 | [512] | the train-split indices used for `calib_*` |")
    w("")
    w("Calibration indices: `np.sort(np.random.RandomState(0).permutation(60000)[:512])`, i.e. a fixed")
    w(f"random subset of the 60k training images, stored in ascending index order "
      f"(first few: {', '.join(str(int(i)) for i in calib_idx[:5])}, ...).")
    w("The training set (all 60k) was used to train the models, so calibration images are in-distribution")
    w("but seen in training; the test subset was never used for training or model selection.")
    w("")
    w("## Training")
    w("")
    w(f"Adam (lr {LR}, cosine decay to 0 over all steps), batch {BATCH}, cross-entropy, full 60k train")
    w("split, no augmentation, `torch.manual_seed(0)`, 2 CPU threads, deterministic algorithms.")
    w("")
    w("## Regenerating")
    w("")
    w("```sh")
    w("apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-onnx \\")
    w("    dataset-fashion-mnist python3-sklearn")
    w("/usr/bin/python3 models/train_zoo.py     # from the repo root; ~25 min on 2 idle CPU cores (47 min when the CPUs were shared)")
    w("```")
    w("")
    w("The script reads the IDX files from `/usr/share/datasets/fashion-mnist/` (no download) and")
    w("rewrites the `.onnx` files, `data/`, `zoo.json` and this README.")
    w("")
    w("## Quantized results")
    w("")
    w("To be filled by the quantizer benchmarks.")
    w("")
    with open(os.path.join(HERE, "README.md"), "w") as f:
        f.write("\n".join(lines))


# ----------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reuse-checkpoints", action="store_true")
    ap.add_argument("--ckpt-dir", default="/tmp/fxpq-zoo-ckpt")
    ap.add_argument("--only", default=None,
                    help="train and export this model alone; the others' files and zoo.json entries stay as they are")
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(0)
    np.random.seed(0)
    torch.use_deterministic_algorithms(True)

    xtr_u8, ytr, xte_u8, yte = load_fmnist()
    xtr_f, xte_f = to_float(xtr_u8), to_float(xte_u8)

    # ---- data subsets
    os.makedirs(DATA_DIR, exist_ok=True)
    test_x, test_y, test_x_u8 = xte_f[:1000], yte[:1000], xte_u8[:1000]
    calib_idx = np.sort(np.random.RandomState(0).permutation(60000)[:512]).astype(np.int64)
    calib_x, calib_y = xtr_f[calib_idx], ytr[calib_idx]
    assert test_x.dtype == np.float32 and test_x.shape == (1000, 1, 28, 28)
    assert np.array_equal(test_x, test_x_u8.astype(np.float32) / np.float32(255))
    for fname, arr in [("test_x", test_x), ("test_y", test_y), ("test_x_u8", test_x_u8),
                       ("calib_x", calib_x), ("calib_y", calib_y), ("calib_idx", calib_idx)]:
        np.save(os.path.join(DATA_DIR, fname + ".npy"), np.ascontiguousarray(arr))

    xtr_t, ytr_t = torch.from_numpy(xtr_f), torch.from_numpy(ytr)
    xte_t = torch.from_numpy(xte_f)
    os.makedirs(args.ckpt_dir, exist_ok=True)

    zoo = []
    if args.only:
        with open(os.path.join(HERE, "zoo.json")) as f:
            zoo = [e for e in json.load(f) if e["name"] != args.only]
    t_all = time.time()
    for name, cls, _desc in MODELS:
        if args.only and name != args.only:
            continue
        print(f"== {name}", flush=True)
        torch.manual_seed(0)
        model = cls()
        ckpt = os.path.join(args.ckpt_dir, f"{name}.pt")
        t0 = time.time()
        if args.reuse_checkpoints and os.path.exists(ckpt):
            model.load_state_dict(torch.load(ckpt))
            print(f"  loaded {ckpt}")
        else:
            train(model, xtr_t, ytr_t, EPOCHS[name], name)
            torch.save(model.state_dict(), ckpt)
        train_s = time.time() - t0
        model.eval()

        logits = predict(model, xte_t)
        top1_full = float(np.mean(logits.argmax(1) == yte) * 100)
        top1_1000 = float(np.mean(predict(model, torch.from_numpy(test_x)).argmax(1) == test_y) * 100)

        path = os.path.join(HERE, f"{name}.onnx")
        m, n_inlined = export(model, name, path)
        info = graph_info(m)
        assert os.path.getsize(path) < 5 * 2 ** 20
        assert [i.name for i in m.graph.input] == ["input"]
        assert [o.name for o in m.graph.output] == ["logits"]

        # independent check: numpy interpreter vs torch
        ref64 = predict(model, torch.from_numpy(test_x[:64]))
        onnx64 = run_onnx_numpy(m, {"input": test_x[:64]})[0]
        diff64 = float(np.abs(onnx64 - ref64).max())
        assert diff64 < 1e-4, f"{name}: ONNX vs torch max abs diff {diff64}"
        onnx_pred = np.concatenate([run_onnx_numpy(m, {"input": test_x[i:i + 100]})[0].argmax(1)
                                    for i in range(0, 1000, 100)])
        onnx_top1_1000 = float(np.mean(onnx_pred == test_y) * 100)
        assert abs(onnx_top1_1000 - top1_1000) < 0.21, (onnx_top1_1000, top1_1000)

        has_bn = "BatchNormalization" in info["ops"]
        if name == "vgg_bn":
            assert has_bn, "vgg_bn export lost its BatchNormalization nodes"
        entry = dict(
            name=name, file=f"{name}.onnx",
            float_top1_full_test=round(top1_full, 2),
            float_top1_test_1000=round(top1_1000, 2),
            onnx_top1_test_1000=round(onnx_top1_1000, 2),
            params=info["params"],
            params_bn_folded=params_bn_folded(model),
            macs=count_macs(model),
            has_batchnorm_nodes=has_bn,
            ops=info["ops"],
            train_epochs=EPOCHS[name],
            opset=OPSET,
            onnx_vs_torch_max_abs_diff_64=float(f"{diff64:.3g}"),
            nodes=info["nodes"], initializers=info["initializers"],
            constant_nodes=info["constant_nodes"],
            scalar_float_initializers=info["scalar_float_initializers"],
            initializers_raw_data=info["initializers_raw_data"],
            identity_nodes_inlined=n_inlined,
            file_bytes=os.path.getsize(path),
        )
        zoo.append(entry)
        print(f"  top1 full {top1_full:.2f}%  top1@1000 {top1_1000:.2f}% (onnx {onnx_top1_1000:.2f}%)  "
              f"params {entry['params']} (folded {entry['params_bn_folded']})  macs {entry['macs']}  "
              f"diff {diff64:.2e}  train {train_s:.0f}s", flush=True)
        print(f"  ops: {[n.op_type for n in m.graph.node]}", flush=True)

    order = [n for n, _, _ in MODELS]
    zoo.sort(key=lambda e: order.index(e["name"]))
    with open(os.path.join(HERE, "zoo.json"), "w") as f:
        json.dump(zoo, f, indent=2)
        f.write("\n")
    write_readme(zoo, calib_idx)
    print(f"total {time.time() - t_all:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
