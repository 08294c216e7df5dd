import { describe, expect, it } from 'vitest';
import { gatesOf } from '../../science/npk/gated-network.js';
import { npf, npkByEnumeration } from '../../science/npk/path-enumeration.js';
import { nuFromNpk } from '../../science/npk/nu.js';
import { npkFromGates } from '../../science/npk/npk-from-gates.js';
import { measureNu } from '../../science/npk/measure-nu.js';
import { NpkNumericError, NpkShapeError } from '../../science/npk/errors.js';
import { normal, randomMatrix, randomNet, relErr, rng } from './seeded.js';

/** y^T A^{-1} y by Gauss-Jordan elimination with partial pivoting (independent of Cholesky). */
function quadInverse(a: Float64Array, y: ArrayLike<number>, n: number): number {
  const m = Array.from({ length: n }, (_, i) => [...Array.from(a.subarray(i * n, (i + 1) * n)), y[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += y[i] * (m[i][n] / m[i][i]);
  return s;
}

function trace(h: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += h[i * n + i];
  return t;
}

/** Gates (as float32 0/1 matrices) and H of a tiny random ReLU net for inputs X. */
function tinyNet(seed: number, X: Float64Array, n: number, dIn = 3, width = 3, hidden = 3) {
  const net = randomNet(rng(seed), dIn, width, hidden);
  const per = Array.from({ length: n }, (_, s) => gatesOf(net, { kind: 'hard' }, X.subarray(s * dIn, (s + 1) * dIn)));
  const gates = Array.from({ length: hidden }, (_, l) => {
    const a = new Float32Array(n * width);
    for (let s = 0; s < n; s++) a.set(per[s][l], s * width);
    return a;
  });
  const h = npkByEnumeration(per.map((g, s) => npf(X.subarray(s * dIn, (s + 1) * dIn), g, width)));
  return { gates, h, width, dIn };
}

describe('npk - nu = y^T H_hat^{-1} y', () => {
  it('matches an independent inverse on a well-conditioned H, via Cholesky', () => {
    const rand = rng(4);
    const n = 20;
    const b = randomMatrix(rand, n, n + 5);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n + 5; k++) h[i * n + j] += b[i * (n + 5) + k] * b[j * (n + 5) + k];
    const y = Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1));
    const r = nuFromNpk(h, y);
    expect(r.method).toBe('cholesky');
    expect(r.ridge).toBeUndefined();
    const tr = trace(h, n);
    expect(relErr(r.nu, quadInverse(h.map((v) => v / tr), y, n))).toBeLessThan(1e-9);
    expect(r.conditionNumber).toBeGreaterThan(1);
    expect(r.conditionNumber).toBeLessThan(1e12);
    // H_hat = H / trace(H): nu does not depend on the scale of H.
    expect(relErr(nuFromNpk(h.map((v) => v * 1e6), y).nu, r.nu)).toBeLessThan(1e-9);
  });

  it('duplicate inputs make H singular: the ridge path is taken and reported', () => {
    const rand = rng(8);
    const n = 6;
    const dIn = 3;
    const X = new Float64Array(n * dIn).map(() => normal(rand));
    X.copyWithin(3 * dIn, 0, dIn); // example 3 = example 0
    let found = false;
    for (let seed = 1; seed <= 20 && !found; seed++) {
      const { h } = tinyNet(seed, X, n);
      if (trace(h, n) === 0) continue; // dead tiny net; try another
      found = true;
      const y = [1, -1, 1, -1, 1, -1]; // duplicates disagree: nu grows as the ridge shrinks
      const r = nuFromNpk(h, y);
      expect(r.method).toBe('ridge');
      expect(r.ridge).toBeGreaterThan(0);
      expect(r.conditionNumber).toBeGreaterThan(1e12);
      expect(r.solvedConditionNumber).toBeLessThanOrEqual(1e12);
      expect(Number.isFinite(r.nu) && r.nu > 0).toBe(true);
      // nu is y^T (H_hat + ridge I)^{-1} y (the reference loses ~cond * eps = 1e-4 of accuracy).
      const tr = trace(h, n);
      const ridged = h.map((v) => v / tr);
      for (let i = 0; i < n; i++) ridged[i * n + i] += r.ridge!;
      expect(relErr(r.nu, quadInverse(ridged, y, n))).toBeLessThan(1e-4);
      // The first ridge is 1e-10 * trace(H_hat)/n, doubled: r = 1e-10/n * 2^k.
      const k = Math.log2(r.ridge! / (1e-10 / n));
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9);
    }
    expect(found).toBe(true);
  });

  it('measureNu: gate activity in, NpkPoint out, equal to nu of the enumerated NPK', () => {
    const rand = rng(21);
    const n = 8;
    const X = new Float64Array(n * 3).map(() => normal(rand));
    const y = Array.from({ length: n }, (_, i) => (i < 4 ? -1 : 1));
    let checked = 0;
    for (let seed = 30; seed < 40; seed++) {
      const { gates, h, width, dIn } = tinyNet(seed, X, n);
      if (trace(h, n) === 0) continue;
      const point = measureNu({ epoch: 4, gates, width, X: Float32Array.from(X), dIn, y });
      const ref = nuFromNpk(h, y);
      expect(point.epoch).toBe(4);
      expect(point.method).toBe(ref.method);
      expect(relErr(point.nu, ref.nu)).toBeLessThan(1e-3); // X went through float32
      const frac = measureNu({ epoch: 4, gates, width, X: Float32Array.from(X), dIn, y, scale: 'per-layer-fraction' });
      expect(relErr(frac.nu, point.nu)).toBeLessThan(1e-6);
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('works at the protocol size (n = 200, 784 pixels, 5 layers of 100 gates) and matches an independent inverse', () => {
    const rand = rng(200);
    const n = 200;
    const dIn = 784;
    const width = 100;
    const X = Float32Array.from({ length: n * dIn }, () => (rand() < 0.8 ? 0 : rand())); // sparse, like MNIST pixels
    const gates = Array.from({ length: 5 }, () => Float32Array.from({ length: n * width }, () => (rand() < 0.5 ? 1 : 0)));
    const y = Array.from({ length: n }, (_, i) => (i < n / 2 ? -1 : 1));
    const point = measureNu({ epoch: 0, gates, width, X, dIn, y });
    expect(point.method).toBe('cholesky');
    const { h } = npkFromGates(gates, width, X, n, dIn);
    const tr = trace(h, n);
    expect(relErr(point.nu, quadInverse(h.map((v) => v / tr), y, n))).toBeLessThan(1e-6);
  });

  it('all gates off gives H = 0 and a typed error, not NaN', () => {
    const n = 4;
    const gates = [new Float32Array(n * 2), new Float32Array(n * 2)];
    const X = new Float32Array(n * 2).fill(1);
    expect(() => measureNu({ epoch: 0, gates, width: 2, X, dIn: 2, y: [1, -1, 1, -1] })).toThrow(NpkNumericError);
  });

  it('rejects mismatched sizes and non-finite labels', () => {
    expect(() => nuFromNpk(new Float64Array(9), [1, 2])).toThrow(NpkShapeError);
    expect(() => nuFromNpk(Float64Array.of(1, 0, 0, 1), [1, NaN])).toThrow(/y\[1\] is NaN/);
  });
});
