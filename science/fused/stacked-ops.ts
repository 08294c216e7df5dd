/**
 * The recorded ops of a stack of K models that differ from the single-model ops of
 * science/models/ops.ts, each with its hand-written gradient. Every tensor carries the member
 * axis first ([K, B, units]); elementwise ops (relu, gates) are shared with ops.ts unchanged.
 *
 * Each op computes, for member k, exactly the kernels its unfused counterpart computes for that
 * model (the same 2-D products, the same reductions over the same axis order), so a member of a
 * stack reproduces its unfused run (test/fused/fused-vs-unfused.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { stackedMatMul } from './stacked-matmul.js';

type Saver = (tensors: tf.Tensor[]) => void;
type GradOut = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

function custom(f: (...args: never[]) => GradOut): (...args: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
}

/** [K, n, m] -> [K, m, n]: one transpose for the whole stack. */
export function transposeMembers(t: tf.Tensor): tf.Tensor3D {
  return tf.transpose(t as tf.Tensor3D, [0, 2, 1]);
}

/** q + b with the bias [K, m] broadcast over each member's batch rows. */
function addBias(q: tf.Tensor, b: tf.Tensor): tf.Tensor3D {
  return tf.add(q, tf.expandDims(b, 1)) as tf.Tensor3D;
}

/*
 * Kernels are held transposed, Wt [K, out, in], so that the big operand of every product is
 * the unpacked left one: XNNPACK repacks (and transposes) its right operand on every call,
 * which for a 784 x 128 kernel costs more than the product itself at batch 32. Per member:
 *   q  = (Wt h^T)^T          right operand h^T: in x B
 *   dh = dq Wt               right operand Wt as stored (the unfused path transposes W first)
 *   dWt = dq^T h             right operand h: B x in
 * Each output element is the same sum of the same products, in the same order, as the
 * unfused layer's (its products are h W, dq W^T, h^T dq), so the values are identical.
 */

/** q = (Wt h^T)^T; `hT` when the caller has h^T already (the data batch, shared by two networks). */
function forwardT(h: tf.Tensor, wt: tf.Tensor, hT?: tf.Tensor): tf.Tensor3D {
  return transposeMembers(stackedMatMul(wt, hT ?? transposeMembers(h)));
}

// The kernel Wt is read from the closure, not through `save`: tfjs saves by copying, which for
// Wt is the whole stacked kernel on every step, and Wt (a variable) outlives the backward pass
// anyway. Activations must be saved: the forward's intermediates are freed before backprop.
/**
 * The gradients of a dense layer from dy [K, B, m]: dx = dy Wt (when wanted), dWt = dy^T x and
 * db = the sum of dy over the batch, taken from dy^T along its last axis (the order in which the
 * unfused sum over the batch adds, without the transpose a reduction over a middle axis costs).
 */
function denseGrads(dy: tf.Tensor, x: tf.Tensor, wt: tf.Tensor, withInput: boolean, withBias: boolean): tf.Tensor[] {
  const dyT = transposeMembers(dy);
  const grads: tf.Tensor[] = [];
  if (withInput) grads.push(stackedMatMul(dy, wt));
  grads.push(stackedMatMul(dyT, x));
  if (withBias) grads.push(tf.sum(dyT, 2));
  return grads;
}

const denseBias = custom((x: tf.Tensor3D, wt: tf.Tensor3D, b: tf.Tensor2D, save: Saver) => {
  save([x]);
  return { value: addBias(forwardT(x, wt), b), gradFunc: (dy, [xs]) => denseGrads(dy, xs, wt, true, true) };
});

const denseNoBias = custom((x: tf.Tensor3D, wt: tf.Tensor3D, save: Saver) => {
  save([x]);
  return { value: forwardT(x, wt), gradFunc: (dy, [xs]) => denseGrads(dy, xs, wt, true, false) };
});

/**
 * A layer fed by the data batch x: x is not an input of the recorded op (its gradient is never
 * needed), so nothing is computed or copied for it; it lives through the step, outside the tape.
 */
function denseInput(x: tf.Tensor, wt: tf.Tensor, bias: tf.Tensor | undefined, xT?: tf.Tensor): tf.Tensor3D {
  if (bias) {
    const op = custom((w: tf.Tensor3D, b: tf.Tensor2D) => ({ value: addBias(forwardT(x, w, xT), b), gradFunc: (dy) => denseGrads(dy, x, wt, false, true) }));
    return op(wt, bias) as tf.Tensor3D;
  }
  const op = custom((w: tf.Tensor3D) => ({ value: forwardT(x, w, xT), gradFunc: (dy) => denseGrads(dy, x, wt, false, false) }));
  return op(wt) as tf.Tensor3D;
}

/**
 * Dense layer of every member, q[k] = x[k] W[k] (+ b[k]): x [K, B, n], transposed kernel
 * kernelT [K, m, n] (Wt[k] = W[k]^T, a variable), bias [K, m]. `isInput`: x is the data batch,
 * whose gradient is not needed; `xT`, its transpose [K, n, B], when the caller has it.
 */
function stackedDense(x: tf.Tensor, kernelT: tf.Tensor, bias: tf.Tensor | undefined, isInput = false, xT?: tf.Tensor): tf.Tensor3D {
  if (isInput) return denseInput(x, kernelT, bias, xT);
  return (bias ? denseBias(x, kernelT, bias) : denseNoBias(x, kernelT)) as tf.Tensor3D;
}

/**
 * The same layer without a tape, for evaluation and frozen gates: x may be one batch shared by
 * every member ([B, n], the test set) or one batch per member ([K, B, n]); `xT` its transpose.
 */
function stackedDenseForward(x: tf.Tensor, kernelT: tf.Tensor, bias: tf.Tensor | undefined, xT?: tf.Tensor): tf.Tensor3D {
  const q = transposeMembers(stackedMatMul(kernelT, xT ?? (x.rank === 2 ? tf.transpose(x) : transposeMembers(x))));
  return bias ? addBias(q, bias) : q;
}

/*
 * Plain layout, for BLAS products (science/backend/wasm-products.ts): kernels held as the unfused
 * model holds them, W [K, in, out], and every product is the unfused layer's own call with the
 * same operands in the same roles (q = h W, dh = dq W^T, dW = h^T dq); BLAS takes a transposed
 * operand as a flag at no cost, where XNNPACK would repack it. BLAS's summation order depends on
 * which operand is on which side, so the transposed layout above would not reproduce an unfused
 * run there.
 */
function plainGrads(dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor, withInput: boolean, withBias: boolean): tf.Tensor[] {
  const grads: tf.Tensor[] = [];
  if (withInput) grads.push(stackedMatMul(dy, w, false, true));
  grads.push(stackedMatMul(x, dy, true, false));
  // The unfused sum over the batch axis, per member: both reduce each column in batch order.
  if (withBias) grads.push(tf.sum(dy, 1));
  return grads;
}

const plainBias = custom((x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor2D, save: Saver) => {
  save([x]);
  return { value: addBias(stackedMatMul(x, w), b), gradFunc: (dy, [xs]) => plainGrads(dy, xs, w, true, true) };
});

const plainNoBias = custom((x: tf.Tensor3D, w: tf.Tensor3D, save: Saver) => {
  save([x]);
  return { value: stackedMatMul(x, w), gradFunc: (dy, [xs]) => plainGrads(dy, xs, w, true, false) };
});

function plainDense(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | undefined, isInput = false): tf.Tensor3D {
  if (isInput) {
    const op = bias
      ? custom((wv: tf.Tensor3D, b: tf.Tensor2D) => ({ value: addBias(stackedMatMul(x, wv), b), gradFunc: (dy) => plainGrads(dy, x, w, false, true) }))
      : custom((wv: tf.Tensor3D) => ({ value: stackedMatMul(x, wv), gradFunc: (dy) => plainGrads(dy, x, w, false, false) }));
    return (bias ? op(w, bias) : op(w)) as tf.Tensor3D;
  }
  return (bias ? plainBias(x, w, bias) : plainNoBias(x, w)) as tf.Tensor3D;
}

function plainDenseForward(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor3D {
  const q = stackedMatMul(x, w);
  return bias ? addBias(q, bias) : q;
}

/** How a stack holds its kernels: transposed [K, out, in] for XNNPACK and the others, plain [K, in, out] for BLAS. */
export type KernelLayout = 'transposed' | 'plain';

/** The dense-layer ops of a stack whose kernels are held in `layout`. */
export interface StackedLayerOps {
  readonly layout: KernelLayout;
  /** Member kernels [in, out] -> the stacked variable's value. */
  stackKernels(kernels: tf.Tensor[]): tf.Tensor;
  /** One member's slice of a stacked kernel -> its [in, out] kernel. */
  memberKernel(slice: tf.Tensor): tf.Tensor;
  /**
   * Dense layer of every member, q[k] = x[k] W[k] (+ b[k]): x [K, B, n], bias [K, m]. `isInput`:
   * x is the data batch, whose gradient is not needed; `xT`, its transpose [K, n, B], when the
   * caller has it (used by the transposed layout only).
   */
  dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, isInput?: boolean, xT?: tf.Tensor): tf.Tensor3D;
  /** The same layer without a tape; x may be shared by every member ([B, n]). */
  denseForward(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, xT?: tf.Tensor): tf.Tensor3D;
  /** Whether the ops use the data batch's transpose (so the caller should compute it once). */
  readonly wantsInputTranspose: boolean;
}

export function stackedLayerOps(layout: KernelLayout): StackedLayerOps {
  if (layout === 'plain') {
    return { layout, stackKernels: (k) => tf.stack(k), memberKernel: (k) => k, dense: plainDense, denseForward: plainDenseForward, wantsInputTranspose: false };
  }
  return {
    layout,
    stackKernels: (k) => tf.stack(k.map((w) => tf.transpose(w))),
    memberKernel: (k) => tf.transpose(k),
    dense: stackedDense,
    denseForward: stackedDenseForward,
    wantsInputTranspose: true,
  };
}

/**
 * Softmax cross-entropy of each member, mean over its batch: a [K] vector. The gradient of
 * member k is (softmax(z_k) - onehot_k) dy_k / B, as for one model.
 */
export const stackedSoftmaxCrossEntropy = custom((logits: tf.Tensor3D, onehot: tf.Tensor3D, save: Saver) => {
  save([logits, onehot]);
  return {
    value: tf.mean(tf.sub(tf.logSumExp(logits, 2), tf.sum(tf.mul(logits, onehot), 2)), 1),
    gradFunc: (dy, [z, oh]) => {
      const [k, b] = z.shape;
      return [tf.mul(tf.sub(tf.softmax(z as tf.Tensor3D), oh), tf.div(tf.reshape(dy, [k, 1, 1]), b)), tf.zerosLike(oh)];
    },
  };
}) as (logits: tf.Tensor3D, onehot: tf.Tensor) => tf.Tensor1D;

/** Squared loss of each member (Keras' MSE over its batch and outputs): a [K] vector. */
export const stackedMeanSquaredError = custom((out: tf.Tensor3D, target: tf.Tensor3D, save: Saver) => {
  const diff = tf.sub(out, target);
  save([diff]);
  return {
    value: tf.mean(tf.square(diff), [1, 2]),
    gradFunc: (dy, [d]) => {
      const [k, b, o] = d.shape;
      return [tf.mul(d, tf.div(tf.mul(tf.reshape(dy, [k, 1, 1]), 2), b * o)), tf.zerosLike(d)];
    },
  };
}) as (out: tf.Tensor3D, target: tf.Tensor) => tf.Tensor1D;
