/**
 * SGD (no momentum), Adam and RMSprop with Keras' defaults, written as one fused update.
 *
 * tfjs' stock Adam issues ~15 kernels per variable (about 3 ms over the 22 variables of a DNPFL
 * FC net in WebAssembly, perf-notes.md). Here the gradients are concatenated into one flat
 * vector, the moment updates run once on it, and the step is split back per variable: about
 * 3 kernels per variable plus a dozen in all.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSpec } from '../types.js';

export interface Optimizer {
  /** Apply one update from `grads` (keyed by variable name). Call inside tf.tidy. */
  apply(grads: tf.NamedTensorMap): void;
  dispose(): void;
}

/** Keras defaults. */
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const EPSILON = 1e-7;
export const RMSPROP_RHO = 0.9;

/** A non-trainable zero vector of optimiser state. */
function zeroState(n: number): tf.Variable {
  const z = tf.zeros([n]);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}

function flatGrad(vars: tf.Variable[], grads: tf.NamedTensorMap): tf.Tensor1D {
  return tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1]))) as tf.Tensor1D;
}

function applyFlatStep(vars: tf.Variable[], sizes: number[], step: tf.Tensor1D): void {
  const pieces = vars.length === 1 ? [step] : tf.split(step, sizes);
  vars.forEach((v, i) => v.assign(tf.sub(v, tf.reshape(pieces[i], v.shape))));
}

class Sgd implements Optimizer {
  private readonly lr: tf.Scalar;
  constructor(private readonly vars: tf.Variable[], lr: number) {
    this.lr = tf.keep(tf.scalar(lr));
  }
  apply(grads: tf.NamedTensorMap): void {
    for (const v of this.vars) v.assign(tf.sub(v, tf.mul(grads[v.name], this.lr)));
  }
  dispose(): void {
    this.lr.dispose();
  }
}

/** Adam (Kingma & Ba) as Keras runs it: lr_t = lr sqrt(1-b2^t)/(1-b1^t), w -= lr_t m/(sqrt(v)+eps). */
class Adam implements Optimizer {
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private readonly sizes: number[];
  private t = 0;
  constructor(private readonly vars: tf.Variable[], private readonly lr: number) {
    this.sizes = vars.map((x) => x.size);
    const n = this.sizes.reduce((a, b) => a + b, 0);
    this.m = zeroState(n);
    this.v = zeroState(n);
  }
  apply(grads: tf.NamedTensorMap): void {
    this.t += 1;
    const g = flatGrad(this.vars, grads);
    this.m.assign(tf.add(tf.mul(this.m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)));
    this.v.assign(tf.add(tf.mul(this.v, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2)));
    const lrT = (this.lr * Math.sqrt(1 - ADAM_BETA2 ** this.t)) / (1 - ADAM_BETA1 ** this.t);
    const step = tf.mul(tf.div(this.m, tf.add(tf.sqrt(this.v), EPSILON)), lrT) as tf.Tensor1D;
    applyFlatStep(this.vars, this.sizes, step);
  }
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}

/** RMSprop as Keras runs it (rho 0.9, no momentum, not centred): w -= lr g/(sqrt(ms)+eps). */
class RmsProp implements Optimizer {
  private readonly ms: tf.Variable;
  private readonly sizes: number[];
  constructor(private readonly vars: tf.Variable[], private readonly lr: number) {
    this.sizes = vars.map((x) => x.size);
    const n = this.sizes.reduce((a, b) => a + b, 0);
    this.ms = zeroState(n);
  }
  apply(grads: tf.NamedTensorMap): void {
    const g = flatGrad(this.vars, grads);
    this.ms.assign(tf.add(tf.mul(this.ms, RMSPROP_RHO), tf.mul(tf.square(g), 1 - RMSPROP_RHO)));
    const step = tf.mul(tf.div(g, tf.add(tf.sqrt(this.ms), EPSILON)), this.lr) as tf.Tensor1D;
    applyFlatStep(this.vars, this.sizes, step);
  }
  dispose(): void {
    this.ms.dispose();
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
