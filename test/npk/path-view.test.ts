import { describe, expect, it } from 'vitest';
import type { GateKind } from '../../science/npk/gated-network.js';
import { gatedForward, gatesOf, reluForward } from '../../science/npk/gated-network.js';
import { npf, npv, outputFromPaths, pathCount, pathIndices } from '../../science/npk/path-enumeration.js';
import { NpkShapeError } from '../../science/npk/errors.js';
import { normal, randomNet, relErr, rng } from './seeded.js';

const dIn = 3;
const width = 3;
const hidden = 3; // d = 4

describe('npk - path enumeration', () => {
  it('enumerates P = dIn * w^(d-1) distinct paths', () => {
    const P = pathCount(dIn, width, hidden);
    expect(P).toBe(81);
    const seen = new Set<string>();
    for (let p = 0; p < P; p++) {
      const idx = pathIndices(p, dIn, width, hidden);
      expect(idx[0]).toBeLessThan(dIn);
      for (let l = 1; l <= hidden; l++) expect(idx[l]).toBeLessThan(width);
      seen.add(idx.join(','));
    }
    expect(seen.size).toBe(P);
    expect(() => pathIndices(P, dIn, width, hidden)).toThrow(NpkShapeError);
  });

  it('NPF of an input is x(I0(p)) when every gate is on, 0 on paths through an off gate (eq. 2, 3)', () => {
    const x = [0.5, -2, 3];
    const gates = [Float64Array.of(1, 0, 1), Float64Array.of(1, 1, 1), Float64Array.of(0, 1, 1)];
    const phi = npf(x, gates, width);
    for (let p = 0; p < phi.length; p++) {
      const idx = pathIndices(p, dIn, width, hidden);
      const on = gates.every((g, l) => g[idx[l + 1]] === 1);
      expect(phi[p] === (on ? x[idx[0]] : 0)).toBe(true); // === so that -0 equals 0
    }
  });
});

describe('npk - Proposition 2.1: y_hat(x) = <phi_x, v>', () => {
  const cases: Array<{ name: string; gate: GateKind; separateFeatureNet: boolean }> = [
    { name: 'ReLU network (feature net = value net, hard gates)', gate: { kind: 'hard' }, separateFeatureNet: false },
    { name: 'DGN with hard gates from a separate feature net', gate: { kind: 'hard' }, separateFeatureNet: true },
    { name: 'DGN with soft gates (1+eps)*sigmoid(beta*q)', gate: { kind: 'soft', beta: 4, eps: 0.1 }, separateFeatureNet: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let live = 0;
      for (let seed = 1; seed <= 5; seed++) {
        const rand = rng(seed);
        const value = randomNet(rand, dIn, width, hidden);
        const feature = c.separateFeatureNet ? randomNet(rand, dIn, width, hidden) : value;
        const v = npv(value);
        for (let k = 0; k < 10; k++) {
          const x = Array.from({ length: dIn }, () => normal(rand));
          const gates = gatesOf(feature, c.gate, x);
          const direct = c.separateFeatureNet ? gatedForward(value, gates, x) : reluForward(value, x);
          const viaPaths = outputFromPaths(npf(x, gates, width), v);
          expect(relErr(viaPaths, direct)).toBeLessThan(1e-5);
          if (direct !== 0) live++;
        }
      }
      expect(live).toBeGreaterThan(25); // most of the 50 checks are on non-zero outputs
    });
  }

  it('detects a wrong NPV (the check can fail)', () => {
    const rand = rng(7);
    const value = randomNet(rand, dIn, width, hidden);
    let x = [1, -1, 0.5];
    while (reluForward(value, x) === 0) x = x.map(() => normal(rand)); // need a live output
    const gates = gatesOf(value, { kind: 'hard' }, x);
    const v = npv(value);
    v.reverse();
    expect(relErr(outputFromPaths(npf(x, gates, width), v), reluForward(value, x))).toBeGreaterThan(1e-5);
  });

  it('ReLU NPFs are positively homogeneous: phi_{cx} = c phi_x for c > 0', () => {
    const rand = rng(3);
    const net = randomNet(rand, dIn, width, hidden);
    const x = [0.3, -1.2, 2];
    const cx = x.map((t) => 2.5 * t);
    const a = npf(x, gatesOf(net, { kind: 'hard' }, x), width);
    const b = npf(cx, gatesOf(net, { kind: 'hard' }, cx), width);
    a.forEach((t, p) => expect(b[p]).toBeCloseTo(2.5 * t, 12));
  });

  it('rejects a network with a mis-shaped layer, naming it', () => {
    const net = randomNet(rng(1), dIn, width, hidden);
    net.layers[1] = new Float64Array(4);
    expect(() => npv(net)).toThrow(/net\.layers\[1\] has length 4, expected 9/);
  });
});
