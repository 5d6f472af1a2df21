// AssemblyScript source of the cycle simulator's conv/dense kernel (compiled by `npm run build:wasm`
// into sim/conv-wasm.generated.ts).
//
// For each output pixel p: the pixel's taps are entries t0..t1 of (elem, row), where elem[t] is the
// input element the tap reads and row[t] the offset of its weight row w[row .. row + cout). Zero
// inputs are dropped, then acc[p][co] = bias[co] + sum over taps of w[row + co] * x[elem], in int32.
// Additions and multiplications wrap modulo 2^32, so the result is exact whenever the true sum lies
// in [-2^31, 2^31): the simulator uses this kernel only for layers whose accumulator range does.

export function conv(x: usize, elem: usize, row: usize, offs: usize, pix: i32, w: usize, bias: usize, cout: i32, acc: usize, xs: usize, rs: usize): void {
  for (let p: i32 = 0; p < pix; p++) {
    const t0: i32 = load<i32>(offs + (<usize>p << 2));
    const t1: i32 = load<i32>(offs + (<usize>(p + 1) << 2));
    let m: i32 = 0;
    for (let t: i32 = t0; t < t1; t++) {
      const v: i32 = load<i32>(x + (<usize>load<i32>(elem + (<usize>t << 2)) << 2));
      if (v != 0) {
        store<i32>(xs + (<usize>m << 2), v);
        store<i32>(rs + (<usize>m << 2), load<i32>(row + (<usize>t << 2)));
        m++;
      }
    }
    const out: usize = acc + (<usize>(p * cout) << 2);
    let co: i32 = 0;
    for (; co + 8 <= cout; co += 8) {
      const cb: usize = <usize>co << 2;
      let a0 = v128.load(bias + cb);
      let a1 = v128.load(bias + cb, 16);
      for (let i: i32 = 0; i < m; i++) {
        const v = i32x4.splat(load<i32>(xs + (<usize>i << 2)));
        const j: usize = w + (<usize>load<i32>(rs + (<usize>i << 2)) << 2) + cb;
        a0 = i32x4.add(a0, i32x4.mul(v128.load(j), v));
        a1 = i32x4.add(a1, i32x4.mul(v128.load(j, 16), v));
      }
      v128.store(out + cb, a0);
      v128.store(out + cb, a1, 16);
    }
    for (; co + 4 <= cout; co += 4) {
      const cb: usize = <usize>co << 2;
      let a0 = v128.load(bias + cb);
      for (let i: i32 = 0; i < m; i++) {
        const v = i32x4.splat(load<i32>(xs + (<usize>i << 2)));
        a0 = i32x4.add(a0, i32x4.mul(v128.load(w + (<usize>load<i32>(rs + (<usize>i << 2)) << 2) + cb), v));
      }
      v128.store(out + cb, a0);
    }
    for (; co < cout; co++) {
      const cb: usize = <usize>co << 2;
      let a: i32 = load<i32>(bias + cb);
      for (let i: i32 = 0; i < m; i++) {
        a += load<i32>(w + (<usize>load<i32>(rs + (<usize>i << 2)) << 2) + cb) * load<i32>(xs + (<usize>i << 2));
      }
      store<i32>(out + cb, a);
    }
  }
}
