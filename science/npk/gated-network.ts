/**
 * A tiny fully connected gated network in plain float64 arrays (paper section 2.1, Table 1),
 * used to check the path view exactly: no biases, as in the paper's definition of a path.
 *
 * Conventions (zero-based): `layers[l - 1]` holds Theta(l), row-major [fanIn x fanOut], so
 * Theta(l, j, i) (unit j of layer l-1 to unit i of layer l) is `layers[l - 1][j * fanOut + i]`.
 * This is the layout of a tfjs dense kernel, so trained weights can be copied in unchanged.
 * Layer 1 is [dIn x w], layers 2..d-1 are [w x w], the output layer d is [w x 1].
 */
import { NpkShapeError, expectLength, expectPositiveInt } from './errors.js';

export interface FcNet {
  dIn: number;
  width: number;
  /** Hidden layers, the paper's d - 1. */
  hidden: number;
  /** Theta(1..d), `hidden + 1` matrices. */
  layers: Float64Array[];
}

/** Gate gamma(q): hard 1[q > 0] (ReLU), or soft (1 + eps) * sigmoid(beta * q) (DNPFL, docs/protocol.md). */
export type GateKind = { kind: 'hard' } | { kind: 'soft'; beta: number; eps: number };

/** Checks the shapes of `net`; throws NpkShapeError naming the bad layer. */
export function validateFcNet(net: FcNet, field = 'net'): void {
  expectPositiveInt(`${field}.dIn`, net.dIn);
  expectPositiveInt(`${field}.width`, net.width);
  expectPositiveInt(`${field}.hidden`, net.hidden);
  if (net.layers.length !== net.hidden + 1) {
    throw new NpkShapeError(`${field}.layers has ${net.layers.length} matrices, expected hidden + 1 = ${net.hidden + 1}.`, {
      field: `${field}.layers`,
    });
  }
  for (let l = 1; l <= net.hidden + 1; l++) {
    const [fanIn, fanOut] = layerShape(net, l);
    expectLength(`${field}.layers[${l - 1}]`, net.layers[l - 1], fanIn * fanOut, `Theta(${l}) is ${fanIn} x ${fanOut}`);
  }
}

/** [fanIn, fanOut] of Theta(l), l in 1..d. */
export function layerShape(net: Pick<FcNet, 'dIn' | 'width' | 'hidden'>, l: number): [number, number] {
  const fanIn = l === 1 ? net.dIn : net.width;
  const fanOut = l === net.hidden + 1 ? 1 : net.width;
  return [fanIn, fanOut];
}

/** gamma(q) for one pre-activation. */
export function gateValue(gate: GateKind, q: number): number {
  if (gate.kind === 'hard') return q > 0 ? 1 : 0;
  return (1 + gate.eps) / (1 + Math.exp(-gate.beta * q));
}

/** z(l) = Theta(l)^T z(l-1) for a [fanIn x fanOut] row-major matrix. */
function affine(theta: Float64Array, z: Float64Array, fanOut: number): Float64Array {
  const q = new Float64Array(fanOut);
  for (let j = 0; j < z.length; j++) {
    const zj = z[j];
    if (zj === 0) continue;
    const row = j * fanOut;
    for (let i = 0; i < fanOut; i++) q[i] += theta[row + i] * zj;
  }
  return q;
}

/**
 * Gating values G(x, l, i) = gamma(q_F(x, l, i)) of a feature network: the feature network runs
 * its own ReLU forward pass (docs/protocol.md, "Deep gated network") and the gate is taken of
 * its pre-activations. Returns one Float64Array of length w per hidden layer l = 1..d-1.
 */
export function gatesOf(feature: FcNet, gate: GateKind, x: ArrayLike<number>): Float64Array[] {
  expectLength('x', x, feature.dIn, 'one input of the feature network');
  const gates: Float64Array[] = [];
  let z: Float64Array = Float64Array.from(x);
  for (let l = 1; l <= feature.hidden; l++) {
    const q = affine(feature.layers[l - 1], z, feature.width);
    gates.push(q.map((v) => gateValue(gate, v)));
    z = q.map((v) => (v > 0 ? v : 0));
  }
  return gates;
}

/**
 * Direct forward pass of the value network with given gates (Table 1, DGN form):
 * z(l) = (Theta(l)^T z(l-1)) * G(l) elementwise, y_hat = Theta(d)^T z(d-1).
 */
export function gatedForward(value: FcNet, gates: Float64Array[], x: ArrayLike<number>): number {
  expectLength('x', x, value.dIn, 'one input of the value network');
  let z: Float64Array = Float64Array.from(x);
  for (let l = 1; l <= value.hidden; l++) {
    const q = affine(value.layers[l - 1], z, value.width);
    const g = gates[l - 1];
    for (let i = 0; i < q.length; i++) q[i] *= g[i];
    z = q;
  }
  return affine(value.layers[value.hidden], z, 1)[0];
}

/** Direct forward pass of a plain ReLU network: z(l) = max(0, Theta(l)^T z(l-1)), y_hat = Theta(d)^T z(d-1). */
export function reluForward(net: FcNet, x: ArrayLike<number>): number {
  expectLength('x', x, net.dIn, 'one input of the network');
  let z: Float64Array = Float64Array.from(x);
  for (let l = 1; l <= net.hidden; l++) z = affine(net.layers[l - 1], z, net.width).map((v) => (v > 0 ? v : 0));
  return affine(net.layers[net.hidden], z, 1)[0];
}
