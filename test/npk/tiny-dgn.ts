/**
 * A small soft-gate DGN (docs/protocol.md "Deep gated network") with its weights as tf.Variables and
 * hand-written gradients (tfjs-core alone registers no op gradients). Test and bench helper, not
 * a test file.
 */
import * as tf from '@tensorflow/tfjs-core';
import { normal, rng } from './seeded.js';

export interface DgnShape {
  dIn: number;
  width: number;
  hidden: number;
  classes: number;
  beta: number;
  eps: number;
}

type Saver = (t: tf.Tensor[]) => void;
type GradOut = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
const custom = (f: (...args: never[]) => GradOut) => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (...a: tf.Tensor[]) => tf.Tensor;

// tfjs-core alone registers no op gradients, so the test network's ops carry their own.
/** x W + b. */
const dense = custom((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Saver) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy, [xs, ws]) => [
      tf.matMul(dy as tf.Tensor2D, ws as tf.Tensor2D, false, true),
      tf.matMul(xs as tf.Tensor2D, dy as tf.Tensor2D, true, false),
      tf.sum(dy, 0),
    ],
  };
});
const relu = custom((q: tf.Tensor, save: Saver) => {
  save([q]);
  return { value: tf.relu(q), gradFunc: (dy, [qs]) => [tf.mul(dy, tf.step(qs))] };
});
/** qv * (1 + eps) * sigmoid(beta * qf): a value pre-activation times its soft gate. */
const softGated = (beta: number, eps: number) => custom((qv: tf.Tensor, qf: tf.Tensor, save: Saver) => {
  const sig = tf.sigmoid(tf.mul(beta, qf));
  save([qv, sig]);
  return {
    value: tf.mul(qv, tf.mul(1 + eps, sig)),
    gradFunc: (dy, [qvs, sg]) => [
      tf.mul(dy, tf.mul(1 + eps, sg)),
      tf.mul(dy, tf.mul(qvs, tf.mul((1 + eps) * beta, tf.mul(sg, tf.sub(1, sg))))),
    ],
  };
});
/** sum of softmax(z) over classes, with the generic softmax vector-Jacobian product s * (g - <g, s>). */
export const softmaxSum = custom((z: tf.Tensor2D, save: Saver) => {
  const sm = tf.softmax(z);
  save([sm]);
  return {
    value: tf.sum(sm),
    gradFunc: (dy, [sms]) => {
      const g = tf.mul(dy, tf.onesLike(sms));
      return [tf.mul(sms, tf.sub(g, tf.sum(tf.mul(g, sms), -1, true)))];
    },
  };
});

interface Layer {
  w: tf.Variable;
  b: tf.Variable;
}

/** A tiny soft-gate DGN (docs/protocol.md "Deep gated network") with its weights as tf.Variables. */
export class TinyDgn {
  readonly feature: Layer[] = [];
  readonly value: Layer[] = [];
  private readonly gated: (qv: tf.Tensor, qf: tf.Tensor) => tf.Tensor;
  constructor(seed: number, readonly shape: DgnShape) {
    const { dIn, width, hidden, classes } = shape;
    this.gated = softGated(shape.beta, shape.eps);
    const rand = rng(seed);
    const layer = (fanIn: number, fanOut: number): Layer => ({
      w: tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: fanIn * fanOut }, () => normal(rand) * Math.sqrt(2 / fanIn)), [fanIn, fanOut]))),
      b: tf.tidy(() => tf.variable(tf.tensor1d(Array.from({ length: fanOut }, () => 0.1 * normal(rand))))),
    });
    for (let l = 0; l < hidden; l++) this.feature.push(layer(l === 0 ? dIn : width, width));
    for (let l = 0; l < hidden; l++) this.value.push(layer(l === 0 ? dIn : width, width));
    this.value.push(layer(width, classes));
  }
  get valueVars(): tf.Variable[] {
    return this.value.flatMap((l) => [l.w, l.b]);
  }
  get featureVars(): tf.Variable[] {
    return this.feature.flatMap((l) => [l.w, l.b]);
  }
  /** Logits [m, classes]: feature net ReLU forward; value layer l output times (1+eps) sigmoid(beta q_F(l)). */
  logits = (x: tf.Tensor2D): tf.Tensor2D => {
    const { hidden } = this.shape;
    let zf: tf.Tensor2D = x;
    let zv: tf.Tensor2D = x;
    for (let l = 0; l < hidden; l++) {
      const qf = dense(zf, this.feature[l].w, this.feature[l].b);
      zf = relu(qf) as tf.Tensor2D;
      zv = this.gated(dense(zv, this.value[l].w, this.value[l].b), qf) as tf.Tensor2D;
    }
    const out = this.value[hidden];
    return dense(zv, out.w, out.b) as tf.Tensor2D;
  };
  /** The same network in float64 plain JS, from flat parameter vectors (for finite differences). */
  logitsF64(x: number[], feature: Float64Array[], value: Float64Array[]): number[] {
    const { hidden, beta, eps } = this.shape;
    const affine = (z: number[], w: Float64Array, b: Float64Array): number[] => {
      const fanOut = b.length;
      return Array.from({ length: fanOut }, (_, i) => z.reduce((acc, zj, j) => acc + zj * w[j * fanOut + i], b[i]));
    };
    let zf = x;
    let zv = x;
    for (let l = 0; l < hidden; l++) {
      const qf = affine(zf, feature[2 * l], feature[2 * l + 1]);
      zf = qf.map((q) => Math.max(0, q));
      zv = affine(zv, value[2 * l], value[2 * l + 1]).map((q, i) => (q * (1 + eps)) / (1 + Math.exp(-beta * qf[i])));
    }
    return affine(zv, value[2 * hidden], value[2 * hidden + 1]);
  }
  dispose(): void {
    tf.dispose([...this.valueVars, ...this.featureVars]);
  }
}

