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
  it('matches an independent inverse on a well-conditioned H (full rank)', () => {
    const rand = rng(4);
    const n = 20;
    const b = randomMatrix(rand, n, n + 5);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n + 5; k++) h[i * n + j] += b[i * (n + 5) + k] * b[j * (n + 5) + k];
    const y = Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1));
    const r = nuFromNpk(h, y);
    expect(r.method).toBe('full-rank');
    expect(r.rank).toBe(n);
    expect(r.nullSpaceFraction).toBe(0);
    expect(r.cutoff).toBe(n * Number.EPSILON);
    const tr = trace(h, n);
    expect(relErr(r.nu!, quadInverse(h.map((v) => v / tr), y, n))).toBeLessThan(1e-9);
    expect(r.rangeNu).toBe(r.nu);
    expect(r.conditionNumber).toBeGreaterThan(1);
    expect(r.conditionNumber).toBeLessThan(1e12);
    // H_hat = H / trace(H): nu does not depend on the scale of H.
    expect(relErr(nuFromNpk(h.map((v) => v * 1e6), y).nu!, r.nu!)).toBeLessThan(1e-9);
  });

  it('H = [[1,1],[1,1]], y = [1,-1]: undefined (y is in the null space), not the 4e10 a ridge makes', () => {
    const r = nuFromNpk([1, 1, 1, 1], [1, -1]);
    expect(r.method).toBe('undefined');
    expect(r.nu).toBeNull();
    expect(r.rank).toBe(1);
    expect(r.nullSpaceFraction).toBeCloseTo(1, 12);
    expect(r.reason).toMatch(/rank 1 of 2 .* 100% of \|\|y\|\|\^2 lies in its null space/);
    // The same H with y in its range: the pseudo-inverse value. H_hat = H/2 has eigenvalue 1 on
    // (1,1)/sqrt(2), so nu = (y . v)^2 / 1 = 2; it is the limit of y^T (H_hat + r I)^-1 y = 2/(1+r).
    const inRange = nuFromNpk([1, 1, 1, 1], [1, 1]);
    expect(inRange.method).toBe('pseudo-inverse');
    expect(inRange.nu).toBeCloseTo(2, 12);
    expect(inRange.nullSpaceFraction).toBeLessThan(1e-20);
  });

  it('a y with a small null-space share is still undefined; the tolerance is an option', () => {
    // H = diag(1, 0): y = (1, 1e-3) has 1e-6 of ||y||^2 in the null space.
    const r = nuFromNpk([1, 0, 0, 0], [1, 1e-3]);
    expect(r.method).toBe('undefined');
    expect(r.nullSpaceFraction).toBeCloseTo(1e-6 / (1 + 1e-6), 15);
    expect(r.rangeNu).toBeCloseTo(1, 12);
    expect(nuFromNpk([1, 0, 0, 0], [1, 1e-3], { nullSpaceTolerance: 1e-5 }).method).toBe('pseudo-inverse');
    // An eigenvalue just above the cut-off counts; one at rounding level does not.
    expect(nuFromNpk([1, 0, 0, 1e-10], [1, 1]).method).toBe('full-rank');
    expect(nuFromNpk([1, 0, 0, 1e-17], [1, 1]).method).toBe('undefined');
    expect(nuFromNpk([1, 0, 0, 1e-10], [1, 1], { cutoffFactor: 1e6 }).method).toBe('undefined');
  });

  it('duplicate inputs make H singular: undefined when their labels disagree, the pseudo-inverse when they agree', () => {
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
      const disagree = nuFromNpk(h, [1, -1, 1, -1, 1, -1]); // examples 0 and 3 are equal, labelled 1 and -1
      expect(disagree.method).toBe('undefined');
      expect(disagree.nu).toBeNull();
      expect(disagree.rank).toBeLessThan(n);
      expect(disagree.nullSpaceFraction).toBeGreaterThan(0.01);
      const y = [1, -1, 1, 1, 1, -1]; // examples 0 and 3 agree: y is in the range of H
      const agree = nuFromNpk(h, y);
      expect(agree.method).toBe('pseudo-inverse');
      // The pseudo-inverse value is the limit of the ridge-regularised one as the ridge goes to 0.
      const tr = trace(h, n);
      const ridged = (r: number) => {
        const m = h.map((v) => v / tr);
        for (let i = 0; i < n; i++) m[i * n + i] += r;
        return quadInverse(m, y, n);
      };
      expect(relErr(agree.nu!, ridged(1e-9))).toBeLessThan(1e-5);
      expect(relErr(agree.nu!, ridged(1e-7))).toBeLessThan(1e-3);
    }
    expect(found).toBe(true);
  });

  it('an input whose gates are all off in a layer has a zero row in H: nu is undefined, with the reason', () => {
    const width = 2;
    const dIn = 4;
    const X = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1); // linearly independent rows
    const on = Float32Array.of(1, 0, 0, 1, 1, 1, 1, 1);
    const deadAt2 = Float32Array.of(1, 1, 1, 0, 0, 0, 1, 1); // example 2: every gate off
    const p = measureNu({ epoch: 6, gates: [on, deadAt2], width, X, dIn, y: [1, -1, 1, -1] });
    expect(p.method).toBe('undefined');
    expect(p.nu).toBeNull();
    expect(p.reason).toMatch(/null space/);
    expect(p).toMatchObject({ epoch: 6, rank: 3, n: 4 });
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
      expect(point.rank).toBe(ref.rank);
      if (ref.nu === null) {
        expect(point.nu).toBeNull();
        checked++;
        continue;
      }
      expect(relErr(point.nu!, ref.nu)).toBeLessThan(1e-3); // X went through float32
      const frac = measureNu({ epoch: 4, gates, width, X: Float32Array.from(X), dIn, y, scale: 'per-layer-fraction' });
      expect(relErr(frac.nu!, point.nu!)).toBeLessThan(1e-6);
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
    expect(point.method).toBe('full-rank');
    expect(point.rank).toBe(n);
    const { h } = npkFromGates(gates, width, X, n, dIn);
    const tr = trace(h, n);
    expect(relErr(point.nu!, quadInverse(h.map((v) => v / tr), y, n))).toBeLessThan(1e-6);
  });

  it('all gates off gives H = 0 and a typed error, not NaN', () => {
    const n = 4;
    const gates = [new Float32Array(n * 2), new Float32Array(n * 2)];
    const X = new Float32Array(n * 2).fill(1);
    expect(() => measureNu({ epoch: 0, gates, width: 2, X, dIn: 2, y: [1, -1, 1, -1] })).toThrow(NpkNumericError);
  });

  it('rejects mismatched sizes, non-finite or all-zero labels and bad options', () => {
    expect(() => nuFromNpk(new Float64Array(9), [1, 2])).toThrow(NpkShapeError);
    expect(() => nuFromNpk(Float64Array.of(1, 0, 0, 1), [1, NaN])).toThrow(/y\[1\] is NaN/);
    expect(() => nuFromNpk(Float64Array.of(1, 0, 0, 1), [0, 0])).toThrow(NpkShapeError);
    expect(() => nuFromNpk(Float64Array.of(1, 0, 0, 1), [1, 1], { cutoffFactor: 0 })).toThrow(NpkShapeError);
  });
});
