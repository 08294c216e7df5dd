/**
 * The trainer's entry point for the NPK experiment (docs/protocol.md "NPK experiment", Figure 2
 * middle; the method: docs/nu.md).
 */
import type { NpkPoint } from '../types.js';
import type { LambdaScale } from './npk-from-gates.js';
import { npkFromGates } from './npk-from-gates.js';
import type { NuOptions } from './nu.js';
import { nuFromNpk } from './nu.js';
import { expectPositiveInt } from './errors.js';

export interface MeasureNuInput {
  /** Epoch the measurement belongs to (0 = before training). */
  epoch: number;
  /**
   * Gate activity A_l for l = 1..d-1: each a row-major n x width matrix (0/1 for ReLU / hard
   * gates, the soft gate values otherwise), for the same n inputs as X and y, in the same order.
   */
  gates: ArrayLike<number>[];
  width: number;
  /** Inputs, row-major n x dIn (pixels / 255 for binary MNIST). */
  X: ArrayLike<number>;
  dIn: number;
  /** Labels, length n (-1 / +1 for binary MNIST). */
  y: ArrayLike<number>;
  /** Default 'count'; either gives the same nu (the factor cancels in H_hat). */
  scale?: LambdaScale;
  nu?: NuOptions;
}

/**
 * nu_t = y^T H_hat^{-1} y at one epoch, where
 * Lambda = prod_l (A_l A_l^T) elementwise (Definition 4.2), H = (X X^T) (Hadamard) Lambda
 * (Lemma 4.1), H_hat = H / trace(H). See nuFromNpk for the method (eigen-decomposition with a
 * relative cut-off; 'undefined' when y has a component in H_hat's null space); call nuFromNpk
 * directly for the extra diagnostics (trace, y^T H_hat^+ y even when nu is undefined).
 */
export function measureNu(input: MeasureNuInput): NpkPoint {
  const n = input.y.length;
  expectPositiveInt('y.length', n);
  const { h } = npkFromGates(input.gates, input.width, input.X, n, input.dIn, { scale: input.scale });
  const r = nuFromNpk(h, input.y, input.nu);
  const point: NpkPoint = {
    epoch: input.epoch,
    nu: r.nu,
    method: r.method,
    conditionNumber: r.conditionNumber,
    rank: r.rank,
    n,
    cutoff: r.cutoff,
    nullSpaceFraction: r.nullSpaceFraction,
  };
  if (r.reason !== undefined) point.reason = r.reason;
  return point;
}
