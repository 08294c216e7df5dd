/**
 * SGD, Adam and RMSprop over stacked variables ([K, ...], member axis first), each member with
 * its own step size and its own optimiser state. The update of member k is the unfused
 * optimiser's update (science/train/optimizer.ts) kernel for kernel: the same constants, the
 * same operation order, its step size (Adam: its bias-corrected step size, computed in double
 * precision as there and rounded to float32 once) broadcast over its slice. One update per
 * stacked variable serves all K members.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from '../types.js';
import { ADAM_BETA1, ADAM_BETA2, EPSILON, RMSPROP_RHO } from '../train/optimizer.js';
import { fusedAdam, fusedSgd } from './fused-updates.js';

export interface StackedOptimizer {
  /** Apply one update; grads[i] belongs to vars[i] (the stack's trainable variables). Call inside tf.tidy. */
  apply(vars: tf.Variable[], grads: tf.Tensor[]): void;
  /** Keep the state of the members at `indices` only (after the stack dropped the others). */
  keep(indices: number[]): void;
  dispose(): void;
}

/** A per-member value as a [K, 1, ...] tensor that broadcasts over a variable of rank `rank`. */
function perMember(values: Float32Array, rank: number): tf.Tensor {
  return tf.tensor(values, [values.length, ...new Array<number>(rank - 1).fill(1)]);
}

function zeroState(v: tf.Variable): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zerosLike(v), false));
}

function gatherState(state: tf.Variable[], indices: number[]): tf.Variable[] {
  const idx = tf.tensor1d(indices, 'int32');
  const out = state.map((s) => {
    const kept = tf.tidy(() => tf.variable(tf.gather(s, idx), false));
    s.dispose();
    return kept;
  });
  idx.dispose();
  return out;
}

abstract class Base implements StackedOptimizer {
  /** Step sizes of the members in the stack. */
  protected lrs: Float32Array;
  // Per-member tensors by variable rank, made once and remade when members leave.
  private byRank = new Map<number, tf.Tensor>();
  constructor(lrs: number[]) {
    this.lrs = Float32Array.from(lrs);
  }
  protected lrFor(rank: number): tf.Tensor {
    let t = this.byRank.get(rank);
    if (!t) {
      t = tf.keep(perMember(this.lrs, rank));
      this.byRank.set(rank, t);
    }
    return t;
  }
  abstract apply(vars: tf.Variable[], grads: tf.Tensor[]): void;
  keep(indices: number[]): void {
    this.lrs = Float32Array.from(indices, (i) => this.lrs[i]);
    for (const t of this.byRank.values()) t.dispose();
    this.byRank.clear();
  }
  dispose(): void {
    for (const t of this.byRank.values()) t.dispose();
    this.byRank.clear();
  }
}

class StackedSgd extends Base {
  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    vars.forEach((v, i) => tf.tidy(() => v.assign(fusedSgd(v, grads[i], this.lrs) ?? tf.sub(v, tf.mul(grads[i], this.lrFor(v.rank))))));
  }
}

/** Adam as Keras runs it; see science/train/optimizer.ts for the update. */
class StackedAdam extends Base {
  private m: tf.Variable[];
  private v: tf.Variable[];
  private readonly c1 = tf.keep(tf.scalar(1 - ADAM_BETA1));
  private readonly c2 = tf.keep(tf.scalar(1 - ADAM_BETA2));
  private readonly eps = tf.keep(tf.scalar(EPSILON));
  // Every member starts with the stack and steps with it, so one step count serves all.
  private t = 0;
  private readonly doubleLrs: number[];
  constructor(lrs: number[], vars: tf.Variable[]) {
    super(lrs);
    this.doubleLrs = [...lrs];
    this.m = vars.map(zeroState);
    this.v = vars.map(zeroState);
  }
  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    this.t += 1;
    const t = this.t;
    const corrected = Float32Array.from(this.doubleLrs, (lr) => (lr * Math.sqrt(1 - ADAM_BETA2 ** t)) / (1 - ADAM_BETA1 ** t));
    const [ms, vs] = [this.m, this.v];
    // One pass per variable where the backend allows (fused-updates.ts), the same ops otherwise.
    const fused = vars.map((w, i) => fusedAdam(w, grads[i], ms[i], vs[i], corrected, { c1: 1 - ADAM_BETA1, c2: 1 - ADAM_BETA2, eps: EPSILON }));
    if (fused.every((f) => f !== undefined)) {
      vars.forEach((w, i) => {
        const [w2, m2, v2] = fused[i] as tf.Tensor[];
        ms[i].assign(m2);
        vs[i].assign(v2);
        w.assign(w2);
      });
      return;
    }
    // Made here, in the caller's tidy: made inside a variable's tidy, it would die with it.
    const lrT = new Map<number, tf.Tensor>();
    for (const w of vars) if (!lrT.has(w.rank)) lrT.set(w.rank, perMember(corrected, w.rank));
    vars.forEach((w, i) => tf.tidy(() => {
      const g = grads[i];
      const m = ms[i];
      const v = vs[i];
      m.assign(tf.add(m, tf.mul(tf.sub(g, m), this.c1)));
      v.assign(tf.add(v, tf.mul(tf.sub(tf.square(g), v), this.c2)));
      w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.eps)), (lrT.get(w.rank) as tf.Tensor))));
    }));
  }
  override keep(indices: number[]): void {
    super.keep(indices);
    const kept = indices.map((i) => this.doubleLrs[i]);
    this.doubleLrs.splice(0, this.doubleLrs.length, ...kept);
    this.m = gatherState(this.m, indices);
    this.v = gatherState(this.v, indices);
  }
  override dispose(): void {
    super.dispose();
    for (const x of [...this.m, ...this.v, this.c1, this.c2, this.eps]) x.dispose();
  }
}

/** RMSprop as Keras runs it (rho 0.9, no momentum, not centred). */
class StackedRmsProp extends Base {
  private ms: tf.Variable[];
  private readonly c = tf.keep(tf.scalar(1 - RMSPROP_RHO));
  private readonly eps = tf.keep(tf.scalar(EPSILON));
  constructor(lrs: number[], vars: tf.Variable[]) {
    super(lrs);
    this.ms = vars.map(zeroState);
  }
  apply(vars: tf.Variable[], grads: tf.Tensor[]): void {
    const states = this.ms;
    vars.forEach((w, i) => tf.tidy(() => {
      const g = grads[i];
      const ms = states[i];
      ms.assign(tf.add(ms, tf.mul(tf.sub(tf.square(g), ms), this.c)));
      w.assign(tf.sub(w, tf.mul(tf.div(g, tf.add(tf.sqrt(ms), this.eps)), this.lrFor(w.rank))));
    }));
  }
  override keep(indices: number[]): void {
    super.keep(indices);
    this.ms = gatherState(this.ms, indices);
  }
  override dispose(): void {
    super.dispose();
    for (const x of [...this.ms, this.c, this.eps]) x.dispose();
  }
}

/** The optimiser `name` for members with step sizes `lrs` (in stack order) over the stack's variables `vars`. */
export function createStackedOptimizer(name: OptimizerName, lrs: number[], vars: tf.Variable[]): StackedOptimizer {
  switch (name) {
    case 'sgd':
      return new StackedSgd(lrs);
    case 'adam':
      return new StackedAdam(lrs, vars);
    case 'rmsprop':
      return new StackedRmsProp(lrs, vars);
  }
}
