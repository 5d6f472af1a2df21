import { describe, expect, it } from 'vitest';
import { discordant, mcnemarP, noisyTop1, rmsDiff, sharedTop1 } from '../src/eval/paired.js';

describe('paired comparison helpers (src/eval/paired.ts)', () => {
  it('exact McNemar p-values match hand-computed binomial tails', () => {
    // 0 against 5: both 5-0 splits have probability 1/32 each.
    expect(mcnemarP(0, 5)).toBeCloseTo(2 / 32, 15);
    // 1 against 9: 2 * (1 + 10) / 1024.
    expect(mcnemarP(9, 1)).toBeCloseTo(22 / 1024, 15);
    // An even split is no evidence at all.
    expect(mcnemarP(3, 3)).toBe(1);
    expect(mcnemarP(0, 0)).toBe(1);
    // 40 against 60: 2 * sum_{k<=40} C(100, k) / 2^100, summed in Python with exact integers.
    expect(mcnemarP(40, 60)).toBeCloseTo(0.05688793364098079, 12);
  });

  it('counts the images exactly one network gets right', () => {
    const labels = Int32Array.from([0, 1, 2, 3, 4]);
    expect(discordant(Int32Array.from([0, 1, 0, 0, 4]), Int32Array.from([0, 0, 2, 1, 1]), labels)).toEqual({ onlyA: 2, onlyB: 1 });
  });

  it('noise of zero leaves top-1 as it is; the RMS difference is the plain formula', () => {
    const logits = Float64Array.from([1, 0, 0, 2, 3, 0]);
    expect(noisyTop1(logits, Int32Array.from([0, 2]), 0, 3, 7)).toEqual([50, 50, 50]);
    expect(rmsDiff(Float64Array.from([0, 0]), Float64Array.from([3, 4]))).toBeCloseTo(Math.sqrt(12.5), 15);
  });

  it('a tie broken at random credits the label 1/k when it is one of k tied classes', () => {
    // Rows: label among 2 tied (1/2), label among 3 tied (1/3), clear hit (1), tie without the label (0).
    const logits = Float64Array.from([3, 3, 0, /**/ 1, 1, 1, /**/ 0, 5, 1, /**/ 2, 2, 1]);
    expect(sharedTop1(logits, Int32Array.from([1, 2, 1, 2]))).toBeCloseTo((100 * (1 / 2 + 1 / 3 + 1)) / 4, 12);
  });
});
