import { describe, expect, it } from 'vitest';
import type { GateKind } from '../../science/npk/gated-network.js';
import { gatesOf } from '../../science/npk/gated-network.js';
import { npf, npkByEnumeration } from '../../science/npk/path-enumeration.js';
import { npkFromGates } from '../../science/npk/npk-from-gates.js';
import { NpkShapeError } from '../../science/npk/errors.js';
import { maxRelErr, normal, randomNet, rng } from './seeded.js';

const dIn = 3;
const width = 3;
const hidden = 3;
const n = 6;

/** Random inputs and their per-layer gate matrices A_l (n x w) from a random feature net. */
function setup(seed: number, gate: GateKind) {
  const rand = rng(seed);
  const feature = randomNet(rand, dIn, width, hidden);
  const X = new Float64Array(n * dIn).map(() => normal(rand));
  const perExample = Array.from({ length: n }, (_, s) => gatesOf(feature, gate, X.subarray(s * dIn, (s + 1) * dIn)));
  const A = Array.from({ length: hidden }, (_, l) => {
    const a = new Float32Array(n * width);
    for (let s = 0; s < n; s++) a.set(perExample[s][l], s * width);
    return a;
  });
  const phis = perExample.map((g, s) => npf(X.subarray(s * dIn, (s + 1) * dIn), g, width));
  return { X, A, perExample, phis };
}

describe('npk - Lemma 4.1: Phi^T Phi = Sigma (Hadamard) Lambda', () => {
  it('matches path enumeration for hard 0/1 gates', () => {
    let live = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const { X, A, phis } = setup(seed, { kind: 'hard' });
      const byPaths = npkByEnumeration(phis);
      const { h } = npkFromGates(A, width, X, n, dIn);
      expect(maxRelErr(h, byPaths)).toBeLessThan(1e-5);
      if (byPaths.some((v) => v !== 0)) live++; // a width-3 net can have a dead layer: H = 0
    }
    expect(live).toBeGreaterThan(4);
  });

  it('matches path enumeration for soft gates (float64 gate values)', () => {
    const gate: GateKind = { kind: 'soft', beta: 4, eps: 0.1 };
    const { X, perExample, phis } = setup(11, gate);
    const A = Array.from({ length: hidden }, (_, l) => {
      const a = new Float64Array(n * width);
      for (let s = 0; s < n; s++) a.set(perExample[s][l], s * width);
      return a;
    });
    expect(maxRelErr(npkFromGates(A, width, X, n, dIn).h, npkByEnumeration(phis))).toBeLessThan(1e-5);
  });

  it('Lambda(s, s) counts the active paths of s, Lambda(s, t) those active for both (Definition 4.2)', () => {
    const { X, perExample, A } = setup(5, { kind: 'hard' });
    const { lambda } = npkFromGates(A, width, X, n, dIn);
    for (let s = 0; s < n; s++) {
      for (let t = 0; t < n; t++) {
        let both = 1;
        for (let l = 0; l < hidden; l++) both *= perExample[s][l].reduce((acc, g, i) => acc + g * perExample[t][l][i], 0);
        expect(lambda[s * n + t]).toBe(both);
      }
    }
  });

  it("'per-layer-fraction' scales Lambda by w^-(d-1)", () => {
    const { X, A } = setup(2, { kind: 'hard' });
    const count = npkFromGates(A, width, X, n, dIn);
    const frac = npkFromGates(A, width, X, n, dIn, { scale: 'per-layer-fraction' });
    expect(maxRelErr(frac.h.map((v) => v * width ** hidden), count.h)).toBeLessThan(1e-12);
  });

  it('a flipped gate changes H (the comparison can fail)', () => {
    const { X, A, phis } = setup(3, { kind: 'hard' });
    A[1][0] = 1 - A[1][0];
    expect(maxRelErr(npkFromGates(A, width, X, n, dIn).h, npkByEnumeration(phis))).toBeGreaterThan(1e-5);
  });

  it('rejects mis-shaped inputs with one clear error naming the argument', () => {
    const { X, A } = setup(1, { kind: 'hard' });
    expect(() => npkFromGates([A[0], new Float32Array(5)], width, X, n, dIn)).toThrow(NpkShapeError);
    expect(() => npkFromGates([A[0], new Float32Array(5)], width, X, n, dIn)).toThrow(/gates\[1\] has length 5, expected 18/);
    expect(() => npkFromGates(A, width, X.subarray(1), n, dIn)).toThrow(/^X has length 17/);
    expect(() => npkFromGates([], width, X, n, dIn)).toThrow(/gates is empty/);
    expect(() => npkFromGates(A, 0, X, n, dIn)).toThrow(/width must be a positive integer/);
  });
});
