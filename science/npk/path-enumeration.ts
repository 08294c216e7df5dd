/**
 * The path view of section 2.2, by brute-force enumeration of every path. Only for tiny networks
 * (P = dIn * w^(d-1) paths); its purpose is to check Proposition 2.1 and Lemma 4.1 exactly.
 * Production code computes the NPK layer by layer (npk-from-gates.ts) and never enumerates.
 *
 * Enumeration (zero-based): path p has digits I_0(p) in [dIn] (most significant), then
 * I_1(p), ..., I_{d-1}(p) in [w]; I_d(p) = 0 is the single output node.
 */
import { NpkShapeError, expectLength } from './errors.js';
import type { FcNet } from './gated-network.js';
import { validateFcNet } from './gated-network.js';

/** Refuse enumerations larger than this many paths (memory and time). */
export const MAX_ENUMERATED_PATHS = 1 << 22;

/** P = dIn * w^(d-1). */
export function pathCount(dIn: number, width: number, hidden: number): number {
  return dIn * width ** hidden;
}

/** The unit indices (I_0(p), ..., I_{d-1}(p)) of path p. */
export function pathIndices(p: number, dIn: number, width: number, hidden: number): number[] {
  const idx = new Array<number>(hidden + 1);
  let rest = p;
  for (let l = hidden; l >= 1; l--) {
    idx[l] = rest % width;
    rest = Math.floor(rest / width);
  }
  idx[0] = rest;
  if (rest >= dIn) throw new NpkShapeError(`path index ${p} is out of range [0, ${pathCount(dIn, width, hidden)}).`, { p });
  return idx;
}

function checkedPathCount(dIn: number, width: number, hidden: number): number {
  const P = pathCount(dIn, width, hidden);
  if (P > MAX_ENUMERATED_PATHS) {
    throw new NpkShapeError(
      `path enumeration of dIn=${dIn}, w=${width}, d-1=${hidden} needs ${P} paths, more than ${MAX_ENUMERATED_PATHS}; use npkFromGates.`,
      { dIn, width, hidden, paths: P },
    );
  }
  return P;
}

/**
 * Neural path feature, eq. (2) and (3): phi_x(p) = x(I_0(p)) * A(x, p) with path activity
 * A(x, p) = prod_{l=1}^{d-1} G(x, l, I_l(p)). `gates[l-1]` holds G(x, l, .) (length w).
 */
export function npf(x: ArrayLike<number>, gates: ArrayLike<number>[], width: number): Float64Array {
  const dIn = x.length;
  const hidden = gates.length;
  gates.forEach((g, l) => expectLength(`gates[${l}]`, g, width, `G(x, ${l + 1}, .) has one value per unit`));
  const P = checkedPathCount(dIn, width, hidden);
  const phi = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const idx = pathIndices(p, dIn, width, hidden);
    let a = x[idx[0]];
    for (let l = 1; l <= hidden && a !== 0; l++) a *= gates[l - 1][idx[l]];
    phi[p] = a;
  }
  return phi;
}

/** Neural path value, eq. (4): v(p) = prod_{l=1}^{d} Theta(l, I_{l-1}(p), I_l(p)), with I_d(p) = 0. */
export function npv(net: FcNet): Float64Array {
  validateFcNet(net);
  const { dIn, width, hidden } = net;
  const P = checkedPathCount(dIn, width, hidden);
  const v = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const idx = pathIndices(p, dIn, width, hidden);
    let prod = 1;
    for (let l = 1; l <= hidden; l++) prod *= net.layers[l - 1][idx[l - 1] * width + idx[l]];
    prod *= net.layers[hidden][idx[hidden]]; // Theta(d) is [w x 1]
    v[p] = prod;
  }
  return v;
}

/** Proposition 2.1, eq. (5): y_hat(x) = <phi_x, v>. */
export function outputFromPaths(phi: Float64Array, v: Float64Array): number {
  expectLength('v', v, phi.length, 'the NPV has one entry per path, like the NPF');
  let s = 0;
  for (let p = 0; p < phi.length; p++) s += phi[p] * v[p];
  return s;
}

/**
 * Definition 4.1 by enumeration: H = Phi^T Phi, Phi = [phi_{x_1}, ..., phi_{x_n}] (P x n).
 * `phis[s]` is the NPF of example s. Returns H row-major, n x n.
 */
export function npkByEnumeration(phis: Float64Array[]): Float64Array {
  const n = phis.length;
  const h = new Float64Array(n * n);
  for (let s = 0; s < n; s++) {
    for (let t = s; t < n; t++) {
      const value = outputFromPaths(phis[s], phis[t]);
      h[s * n + t] = value;
      h[t * n + s] = value;
    }
  }
  return h;
}
