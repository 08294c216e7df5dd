/**
 * The NTK split of a DNPFL network (section 5, item 6; protocol.md "NTK split"):
 * K = K^v + K^phi, where K^v is the Gram matrix of per-example gradients of the output with
 * respect to the value-network weights (the "value derivative" of eq. 7) and K^phi the same with
 * respect to the feature-network weights (the "feature derivative", non-zero only with soft gates).
 *
 * Works on whatever tfjs backend is active: per-example gradients by tf.variableGrads, one example
 * at a time, and the Gram matrices by tf.matMul on the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NpkShapeError, expectPositiveInt } from './errors.js';

/** Per-example scalar output name used by trueClassLogit(). */
export const TRUE_CLASS_LOGIT = 'true-class-logit';

export interface NtkSplitInput {
  /** Number of examples n. */
  n: number;
  /**
   * The scalar output y_hat(x_s) for example s in [0, n), computed from the variables (it runs
   * inside a gradient tape). It must NOT be the sum of the softmax outputs: that is identically 1,
   * so its gradient, and both kernels, are zero (the authors' notebook did this). Use a logit,
   * e.g. trueClassLogit(), or the single output of a 1-output network.
   */
  output: (s: number) => tf.Scalar;
  /** Value-network weights Theta^V (trainable, disjoint from featureVars). */
  valueVars: tf.Variable[];
  /** Feature-network weights Theta^F (trainable, disjoint from valueVars). */
  featureVars: tf.Variable[];
  /** Rows of gradients stacked per matMul; bounds the temporary memory. Default 32. */
  blockSize?: number;
}

export interface NtkSplitKernels {
  n: number;
  /** K^v(s, s') = <d y_hat(x_s)/d Theta^V, d y_hat(x_s')/d Theta^V>, n x n row-major. */
  kv: Float64Array;
  /** K^phi(s, s') = <d y_hat(x_s)/d Theta^F, d y_hat(x_s')/d Theta^F>, n x n row-major. */
  kphi: Float64Array;
}

export interface KernelSummary {
  trace: number;
  frobenius: number;
}

/**
 * sum(z * mask) with a hand-written gradient (mask * dy for z). tfjs-core's Node entry point
 * registers no op gradients (they ship with the `tfjs` union package, which this project does not
 * use), so every op that runs on the gradient tape here carries its own, like science/models.
 */
const maskedSum = tf.customGrad(((z: tf.Tensor, mask: tf.Tensor, save: (t: tf.Tensor[]) => void) => {
  save([mask]);
  return {
    value: tf.sum(tf.mul(z, mask)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]), tf.zerosLike(saved[0])],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (z: tf.Tensor, mask: tf.Tensor) => tf.Scalar;

/**
 * Per-example output of a classifier: the logit of the true class, z(x_s)[label_s].
 * @param logits maps a [1, dIn] input to [1, classes] pre-softmax outputs, built from the
 *   variables with differentiable ops (the caller's model ops).
 * @param X [n, dIn] inputs (kept by the caller; not disposed here).
 */
export function trueClassLogit(logits: (x: tf.Tensor2D) => tf.Tensor2D, X: tf.Tensor2D, labels: ArrayLike<number>): (s: number) => tf.Scalar {
  if (labels.length !== X.shape[0]) {
    throw new NpkShapeError(`labels has length ${labels.length}, expected one per row of X (${X.shape[0]}).`, { field: 'labels' });
  }
  for (let s = 0; s < labels.length; s++) {
    if (!Number.isInteger(labels[s]) || labels[s] < 0) {
      throw new NpkShapeError(`labels[${s}] is ${labels[s]}; a class label is a non-negative integer.`, { field: `labels[${s}]`, value: labels[s] });
    }
  }
  return (s: number) => {
    const z = logits(tf.slice(X, [s, 0], [1, -1])); // X is data, not a variable: no gradient through the slice
    const classes = z.shape[1];
    if (labels[s] >= classes) {
      throw new NpkShapeError(`labels[${s}] is ${labels[s]} but the network has ${classes} outputs.`, { field: `labels[${s}]`, value: labels[s] });
    }
    const mask = tf.cast(tf.oneHot(tf.tensor1d([labels[s]], 'int32'), classes), 'float32');
    return maskedSum(z, mask);
  };
}

/**
 * K^v and K^phi for n examples. Memory: the flattened gradients of all n examples, n * (|Theta^V|
 * + |Theta^F|) float32 on the backend (about 270 MB for the protocol's n = 200, w = 128, 5 hidden
 * layers, MNIST), plus one block. No tensor outlives the call.
 */
export function ntkSplitKernels(input: NtkSplitInput): NtkSplitKernels {
  const { n, output, valueVars, featureVars } = input;
  const blockSize = input.blockSize ?? 32;
  expectPositiveInt('n', n);
  expectPositiveInt('blockSize', blockSize);
  validateVars(valueVars, featureVars);
  const allVars = [...valueVars, ...featureVars];

  // The output must be a scalar; check once, outside any gradient tape.
  const rank = tf.tidy(() => output(0).rank);
  if (rank !== 0) throw new NpkShapeError(`output(s) must return a scalar (rank 0), got rank ${rank}.`, { field: 'output', rank });

  const vBlocks: tf.Tensor2D[] = [];
  const fBlocks: tf.Tensor2D[] = [];
  try {
    let vRows: tf.Tensor1D[] = [];
    let fRows: tf.Tensor1D[] = [];
    const flush = () => {
      if (vRows.length === 0) return;
      vBlocks.push(tf.stack(vRows) as tf.Tensor2D);
      fBlocks.push(tf.stack(fRows) as tf.Tensor2D);
      tf.dispose([...vRows, ...fRows]);
      vRows = [];
      fRows = [];
    };
    for (let s = 0; s < n; s++) {
      const [v, f] = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => output(s), allVars);
        value.dispose();
        return [flatten(valueVars, grads), flatten(featureVars, grads)];
      });
      vRows.push(v);
      fRows.push(f);
      if (vRows.length === blockSize) flush();
    }
    flush();
    return { n, kv: gramOfBlocks(vBlocks, n), kphi: gramOfBlocks(fBlocks, n) };
  } finally {
    tf.dispose([...vBlocks, ...fBlocks]);
  }
}

/** Trace and Frobenius norm of an n x n kernel. */
export function kernelSummary(k: ArrayLike<number>, n: number): KernelSummary {
  let trace = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) trace += k[i * n + i];
  for (let i = 0; i < n * n; i++) sq += k[i] * k[i];
  return { trace, frobenius: Math.sqrt(sq) };
}

/** The gradients of `vars` concatenated into one vector (zeros for a variable the output does not reach). */
function flatten(vars: tf.Variable[], grads: tf.NamedTensorMap): tf.Tensor1D {
  if (vars.length === 0) return tf.zeros([0]);
  return tf.concat(vars.map((v) => tf.reshape(grads[v.name] ?? tf.zerosLike(v), [-1]))) as tf.Tensor1D;
}

/**
 * G G^T from row blocks of G. Every block pair is computed (not mirrored), so the symmetry of the
 * result is a real check on the arithmetic rather than true by construction.
 */
function gramOfBlocks(blocks: tf.Tensor2D[], n: number): Float64Array {
  const k = new Float64Array(n * n);
  let r0 = 0;
  for (const bi of blocks) {
    let c0 = 0;
    for (const bj of blocks) {
      const part = tf.tidy(() => tf.matMul(bi, bj, false, true));
      const data = part.dataSync();
      part.dispose();
      const rows = bi.shape[0];
      const cols = bj.shape[0];
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) k[(r0 + r) * n + c0 + c] = data[r * cols + c];
      c0 += cols;
    }
    r0 += bi.shape[0];
  }
  return k;
}

function validateVars(valueVars: tf.Variable[], featureVars: tf.Variable[]): void {
  if (valueVars.length === 0) throw new NpkShapeError('valueVars is empty: the value network has weights.', { field: 'valueVars' });
  const seen = new Set<string>();
  for (const [field, vars] of [
    ['valueVars', valueVars],
    ['featureVars', featureVars],
  ] as const) {
    vars.forEach((v, i) => {
      if (!(v instanceof tf.Variable)) throw new NpkShapeError(`${field}[${i}] is not a tf.Variable.`, { field: `${field}[${i}]` });
      if (!v.trainable) {
        throw new NpkShapeError(`${field}[${i}] (${v.name}) is not trainable; tf.variableGrads skips it, so its kernel would be silently zero.`, {
          field: `${field}[${i}]`,
          name: v.name,
        });
      }
      if (seen.has(v.name)) throw new NpkShapeError(`${field}[${i}] (${v.name}) appears twice; the value and feature groups must be disjoint.`, { field: `${field}[${i}]`, name: v.name });
      seen.add(v.name);
    });
  }
}
