/**
 * SGD (no momentum), Adam and RMSprop with Keras' defaults, each update written as the fewest
 * kernels per variable inside the caller's tidy.
 *
 * Why not one flat update over all variables: concatenating the gradients is cheap, but
 * splitting the step back costs ~0.3 ms per piece in the WebAssembly backend (its Slice kernel
 * copies the whole input each time), which made the flat version 5x slower than this one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSpec } from '../types.js';

export interface Optimizer {
  /** Apply one update from `grads` (keyed by variable name). Call inside tf.tidy. */
  apply(grads: tf.NamedTensorMap): void;
  /** The optimiser's state tensors, in a fixed order (Adam: m then v per variable; RMSprop: ms; SGD: none): what a resume state saves. */
  readonly slots: readonly tf.Variable[];
  /** Updates applied so far (Adam's bias correction needs it); restored with the slots. */
  step: number;
  dispose(): void;
}

/** Keras defaults. */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const EPSILON = 1e-7;
export const RMSPROP_RHO = 0.9;

/** A non-trainable zero vector of optimiser state. */
function zeroState(shape: number[]): tf.Variable {
  const z = tf.zeros(shape);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}

class Sgd implements Optimizer {
  private readonly lr: tf.Scalar;
  readonly slots: readonly tf.Variable[] = [];
  step = 0;
  constructor(private readonly vars: tf.Variable[], lr: number) {
    this.lr = tf.keep(tf.scalar(lr));
  }
  apply(grads: tf.NamedTensorMap): void {
    this.step += 1;
    for (const v of this.vars) tf.tidy(() => v.assign(tf.sub(v, tf.mul(grads[v.name], this.lr))));
  }
  dispose(): void {
    this.lr.dispose();
  }
}

/**
 * Adam (Kingma & Ba) as Keras runs it: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * w -= lr_t m / (sqrt(v) + eps) with lr_t = lr sqrt(1-b2^t) / (1-b1^t). 12 kernels per variable.
 */
class Adam implements Optimizer {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  // Constants as kept tensors: a JS number operand costs a fresh scalar tensor per kernel.
  private readonly c1 = tf.keep(tf.scalar(1 - ADAM_BETA1));
  private readonly c2 = tf.keep(tf.scalar(1 - ADAM_BETA2));
  private readonly eps = tf.keep(tf.scalar(EPSILON));
  step = 0;
  constructor(private readonly vars: tf.Variable[], private readonly lr: number) {
    this.m = vars.map((x) => zeroState(x.shape));
    this.v = vars.map((x) => zeroState(x.shape));
  }
  get slots(): readonly tf.Variable[] {
    return [...this.m, ...this.v];
  }
  apply(grads: tf.NamedTensorMap): void {
    this.step += 1;
    const lrT = tf.scalar((this.lr * Math.sqrt(1 - ADAM_BETA2 ** this.step)) / (1 - ADAM_BETA1 ** this.step));
    // One tidy per variable: a VCONV dense kernel is 134 MB, and a dozen such temporaries per
    // variable held until the step's tidy ends would overflow the wasm heap.
    this.vars.forEach((w, i) => tf.tidy(() => {
      const g = grads[w.name];
      const m = this.m[i];
      const v = this.v[i];
      // m + (1-b1)(g - m) and v + (1-b2)(g^2 - v): one kernel fewer each than b*m + (1-b)*g.
      m.assign(tf.add(m, tf.mul(tf.sub(g, m), this.c1)));
      v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), this.c2)));
      w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.eps)), lrT)));
    }));
  }
  dispose(): void {
    for (const x of [...this.m, ...this.v, this.c1, this.c2, this.eps]) x.dispose();
  }
}

/** RMSprop as Keras runs it (rho 0.9, no momentum, not centred): w -= lr g / (sqrt(ms) + eps). */
class RmsProp implements Optimizer {
  private readonly ms: tf.Variable[];
  private readonly c = tf.keep(tf.scalar(1 - RMSPROP_RHO));
  private readonly eps = tf.keep(tf.scalar(EPSILON));
  private readonly lr: tf.Scalar;
  step = 0;
  constructor(private readonly vars: tf.Variable[], lr: number) {
    this.ms = vars.map((x) => zeroState(x.shape));
    this.lr = tf.keep(tf.scalar(lr));
  }
  get slots(): readonly tf.Variable[] {
    return this.ms;
  }
  apply(grads: tf.NamedTensorMap): void {
    this.step += 1;
    this.vars.forEach((w, i) => tf.tidy(() => {
      const g = grads[w.name];
      const ms = this.ms[i];
      ms.assign(tf.add(ms, tf.mul(tf.sub(tf.square(g), ms), this.c)));
      w.assign(tf.sub(w, tf.mul(tf.div(g, tf.add(tf.sqrt(ms), this.eps)), this.lr)));
    }));
  }
  dispose(): void {
    for (const x of [...this.ms, this.c, this.eps, this.lr]) x.dispose();
  }
}

/** The optimiser of `spec` over the trainable variables `vars`. */
export function createOptimizer(spec: OptimizerSpec, vars: tf.Variable[]): Optimizer {
  switch (spec.name) {
    case 'sgd':
      return new Sgd(vars, spec.lr);
    case 'adam':
      return new Adam(vars, spec.lr);
    case 'rmsprop':
      return new RmsProp(vars, spec.lr);
  }
}
