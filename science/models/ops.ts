/**
 * Every operation the training tape records, each with a hand-written gradient (tf.customGrad).
 *
 * Two reasons:
 * - tfjs-core alone registers no op gradients (its Node entry point leaves them to the `tfjs`
 *   union package, which this project does not use), and registering them would change
 *   process-global state for everybody; custom gradients need no registry.
 * - Speed: the stock gradient of tf.matMul calls BatchMatMul with transposeA/transposeB set,
 *   which the WebAssembly backend runs 3-5x slower than an explicit transpose followed by a
 *   plain matMul (docs/performance.md: dW = x^T dq 3.3 ms -> 0.7 ms). The dense layer
 *   here computes dW = transpose(x) @ dq and dx = dq @ transpose(W) explicitly.
 *
 * All gradients are checked against finite differences in test/models/ops.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

type Saver = (tensors: tf.Tensor[]) => void;
type GradOut = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

/** tf.customGrad with the saver typed: f receives the tensor inputs then `save`. */
function custom(f: (...args: never[]) => GradOut): (...args: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
}

/**
 * dx = dy W^T. An explicit transpose of a huge kernel (VCONV's 131072 x 256 Flatten->Dense, 134 MB)
 * would double its memory inside the wasm heap, so from this size on the transposeB flag is used.
 */
const TRANSPOSE_FLAG_FROM = 1 << 22;
function inputGrad(dy: tf.Tensor, w: tf.Tensor): tf.Tensor {
  if (w.size >= TRANSPOSE_FLAG_FROM) return tf.matMul(dy as tf.Tensor2D, w as tf.Tensor2D, false, true);
  return tf.matMul(dy as tf.Tensor2D, tf.transpose(w as tf.Tensor2D));
}

const denseBias = custom((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Saver) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy, [xs, ws]) => [inputGrad(dy, ws), tf.matMul(tf.transpose(xs as tf.Tensor2D), dy as tf.Tensor2D), tf.sum(dy, 0)],
  };
});

const denseNoBias = custom((x: tf.Tensor2D, w: tf.Tensor2D, save: Saver) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy, [xs, ws]) => [inputGrad(dy, ws), tf.matMul(tf.transpose(xs as tf.Tensor2D), dy as tf.Tensor2D)],
  };
});

// A layer fed by the data: dx is never used, so it is not computed (a zero tensor stands in).
const denseBiasInput = custom((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Saver) => {
  save([x]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy, [xs]) => [tf.zerosLike(xs), tf.matMul(tf.transpose(xs as tf.Tensor2D), dy as tf.Tensor2D), tf.sum(dy, 0)],
  };
});

const denseNoBiasInput = custom((x: tf.Tensor2D, w: tf.Tensor2D, save: Saver) => {
  save([x]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy, [xs]) => [tf.zerosLike(xs), tf.matMul(tf.transpose(xs as tf.Tensor2D), dy as tf.Tensor2D)],
  };
});

/** Dense layer q = x W (+ b). `isInput`: x is the data batch, whose gradient is not needed. */
export function dense(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, isInput = false): tf.Tensor2D {
  if (bias) return (isInput ? denseBiasInput : denseBias)(x, kernel, bias) as tf.Tensor2D;
  return (isInput ? denseNoBiasInput : denseNoBias)(x, kernel) as tf.Tensor2D;
}

/** Which of a backend's own conv gradient kernels are used, per backend (the rest are composed here). */
export interface NativeConvGrads {
  input: boolean;
  filter: boolean;
}

/**
 * - tensorflow (tfjs-node, -gpu): TensorFlow's Conv2DBackpropInput and Conv2DBackpropFilter.
 * - webgpu: its Conv2DBackpropInput (one dispatch, as fast as the flipped conv below), but the
 *   shifted-matMul filter gradient: tfjs-backend-webgpu 4.22's Conv2DBackpropFilter is one naive
 *   loop per weight, a GCONV step 1.8x slower with it on lavapipe (docs/webgpu.md). On a real GPU
 *   the choice is re-measured by bench/device-bench.ts (its "webgpu+native-filter" case).
 * - wasm, cpu: none (wasm has no filter kernel; its input kernel and cpu's are naive loops).
 */
const NATIVE_CONV_GRADS = new Map<string, NativeConvGrads>([
  ['tensorflow', { input: true, filter: true }],
  ['webgpu', { input: true, filter: false }],
]);

/** Which native conv gradient kernels `backend` uses; returns the previous setting (benchmarks compare them). */
export function setNativeConvGrads(backend: string, use: NativeConvGrads): NativeConvGrads {
  const before = NATIVE_CONV_GRADS.get(backend) ?? { input: false, filter: false };
  NATIVE_CONV_GRADS.set(backend, use);
  return before;
}

const CONV_ATTRS = { strides: [1, 1] as [number, number], pad: 'same' as const, dataFormat: 'NHWC' as const };

/**
 * Gradients of a stride-1 'same' convolution with an odd k x k kernel. Composed from kernels
 * every backend has (the wasm backend has no Conv2DBackpropFilter, and its Conv2DBackpropInput and
 * the cpu backend's filter gradient are naive loops: 10x and 1000x slower than this):
 * - dx = conv_same(dy, W flipped in space, in/out channels swapped);
 * - dW[a, b] = x_shift(a, b)^T dy, one [Cin, BHW] x [BHW, Cout] matMul per kernel offset, where
 *   x_shift(a, b) is the zero-padded input shifted by (a, b).
 * or the backend's own kernels where NATIVE_CONV_GRADS says so.
 */
function convGrads(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const native = NATIVE_CONV_GRADS.get(tf.getBackend());
  const [k, , cin, cout] = w.shape;
  const dx = native?.input
    ? (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...CONV_ATTRS, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
    : tf.conv2d(dy, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]), 1, 'same');
  if (native?.filter) {
    return [dx, tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...CONV_ATTRS, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D];
  }
  const [b, h, wd] = x.shape;
  const p = (k - 1) / 2;
  const xp = tf.pad(x, [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ]);
  const dy2 = tf.reshape(dy, [b * h * wd, cout]);
  const parts: tf.Tensor[] = [];
  for (let a = 0; a < k; a++) {
    for (let c = 0; c < k; c++) {
      const shifted = tf.reshape(tf.slice(xp, [0, a, c, 0], [b, h, wd, cin]), [b * h * wd, cin]);
      parts.push(tf.matMul(tf.transpose(shifted), dy2));
    }
  }
  return [dx, tf.reshape(tf.concat(parts, 0), [k, k, cin, cout])];
}

const convBias = custom((x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, save: Saver) => {
  save([x, w]);
  return {
    value: tf.add(tf.conv2d(x, w, 1, 'same'), b),
    gradFunc: (dy, [xs, ws]) => [...convGrads(xs as tf.Tensor4D, ws as tf.Tensor4D, dy as tf.Tensor4D), tf.sum(dy, [0, 1, 2])],
  };
});

const convNoBias = custom((x: tf.Tensor4D, w: tf.Tensor4D, save: Saver) => {
  save([x, w]);
  return {
    value: tf.conv2d(x, w, 1, 'same'),
    gradFunc: (dy, [xs, ws]) => convGrads(xs as tf.Tensor4D, ws as tf.Tensor4D, dy as tf.Tensor4D),
  };
});

/** Conv2D with an odd k x k kernel (3x3 here), stride 1, padding 'same', NHWC, optional bias. */
export function conv2dSame(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor4D {
  return (bias ? convBias(x, kernel, bias) : convNoBias(x, kernel)) as tf.Tensor4D;
}

/** ReLU: relu(q), gradient dy * 1[q > 0]. */
export const relu = custom((q: tf.Tensor, save: Saver) => {
  save([q]);
  return { value: tf.relu(q), gradFunc: (dy, [qs]) => [tf.mul(dy, tf.step(qs, 0))] };
}) as (q: tf.Tensor) => tf.Tensor;

/**
 * Soft gate of DNPFL (section 5): G = (1 + eps) sigmoid(beta q);
 * dG/dq = (1 + eps) beta sigmoid(beta q) (1 - sigmoid(beta q)).
 */
export function softGateOp(q: tf.Tensor, beta: number, eps: number): tf.Tensor {
  const op = custom((qi: tf.Tensor, save: Saver) => {
    const s = tf.sigmoid(tf.mul(qi, beta));
    save([s]);
    return {
      value: tf.mul(s, 1 + eps),
      gradFunc: (dy, [ss]) => [tf.mul(dy, tf.mul(tf.mul(ss, tf.sub(1, ss)), (1 + eps) * beta))],
    };
  });
  return op(q);
}

/** q (Hadamard) G with constant gates G (hard gates carry no gradient): dq = dy G. */
export function gateConst(q: tf.Tensor, gates: tf.Tensor): tf.Tensor {
  const op = custom((qi: tf.Tensor) => ({ value: tf.mul(qi, gates), gradFunc: (dy) => [tf.mul(dy, gates)] }));
  return op(q);
}

/** q (Hadamard) G with trainable gates (soft gates): dq = dy G, dG = dy q. */
export const gateMul = custom((q: tf.Tensor, g: tf.Tensor, save: Saver) => {
  save([q, g]);
  return { value: tf.mul(q, g), gradFunc: (dy, [qs, gs]) => [tf.mul(dy, gs), tf.mul(dy, qs)] };
}) as (q: tf.Tensor, g: tf.Tensor) => tf.Tensor;

/** Flatten [B, H, W, C] -> [B, H*W*C] (Keras' Flatten of NHWC: the same row-major order). */
export function flatten(h: tf.Tensor): tf.Tensor2D {
  const shape = h.shape;
  const op = custom((hi: tf.Tensor) => ({
    value: tf.reshape(hi, [shape[0], -1]),
    gradFunc: (dy) => [tf.reshape(dy, shape)],
  }));
  return op(h) as tf.Tensor2D;
}

/** GlobalAveragePooling2D: [B, H, W, C] -> [B, C]; gradient spreads dy / (H W) over the window. */
export function globalAveragePool(h: tf.Tensor): tf.Tensor2D {
  const [b, hh, ww, c] = h.shape;
  const op = custom((hi: tf.Tensor) => ({
    value: tf.mean(hi, [1, 2]),
    gradFunc: (dy) => [tf.broadcastTo(tf.div(tf.reshape(dy, [b, 1, 1, c]), hh * ww), [b, hh, ww, c])],
  }));
  return op(h) as tf.Tensor2D;
}

/**
 * Softmax cross-entropy, mean over the batch: mean_i [logsumexp(z_i) - <z_i, onehot_i>], with the
 * fused gradient (softmax(z) - onehot) / B.
 */
export const softmaxCrossEntropy = custom((logits: tf.Tensor2D, onehot: tf.Tensor2D, save: Saver) => {
  save([logits, onehot]);
  return {
    value: tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, onehot), 1))),
    gradFunc: (dy, [z, oh]) => [tf.mul(tf.sub(tf.softmax(z as tf.Tensor2D), oh), tf.div(dy, z.shape[0] as number)), tf.zerosLike(oh)],
  };
}) as (logits: tf.Tensor2D, onehot: tf.Tensor2D) => tf.Scalar;

/** Squared loss, Keras' MSE: mean over batch and outputs of (o - t)^2; gradient 2 (o - t) / N. */
export const meanSquaredError = custom((out: tf.Tensor2D, target: tf.Tensor2D, save: Saver) => {
  const diff = tf.sub(out, target);
  save([diff]);
  return {
    value: tf.mean(tf.square(diff)),
    gradFunc: (dy, [d]) => [tf.mul(d, tf.div(tf.mul(dy, 2), d.size)), tf.zerosLike(d)],
  };
}) as (out: tf.Tensor2D, target: tf.Tensor2D) => tf.Scalar;
