/**
 * The NTK split of a DNPFL network (section 5, item 6; docs/protocol.md "NTK split", docs/ntk-split.md):
 * K = K^v + K^phi, where K^v is the Gram matrix of per-example gradients of the output with
 * respect to the value-network weights (the "value derivative" of eq. 7) and K^phi the same with
 * respect to the feature-network weights (the "feature derivative", non-zero only with soft gates).
 *
 * Works on whatever tfjs backend is active: per-example gradients by tf.variableGrads, one example
 * at a time, downloaded to the host (asynchronously: a GPU backend has no synchronous read in
 * Node), where the Gram matrices are formed in float64 (gramRows).
 */
import * as tf from '@tensorflow/tfjs-core';
import { NpfError, describeError } from '../../common/errors.js';
import { NpkShapeError, expectPositiveInt } from './errors.js';

/** Per-example scalar output name used by trueClassLogit() on a network with several outputs. */
export const TRUE_CLASS_LOGIT = 'true-class-logit';

/** ... and on a 1-output network (binary MNIST: y_hat itself). */
export const SINGLE_OUTPUT = 'output';

/** The name of the scalar trueClassLogit() differentiates for a network with `outputs` outputs. */
export function scalarOutputName(outputs: number): string {
  return outputs === 1 ? SINGLE_OUTPUT : TRUE_CLASS_LOGIT;
}

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
 * Per-example output of a classifier: the logit of the true class, z(x_s)[label_s]; for a
 * 1-output network (binary MNIST's y_hat, trained against -1/+1 targets) the output itself,
 * whatever the label (scalarOutputName says which).
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
    if (classes === 1) return maskedSum(z, tf.ones([1, 1])); // a constant mask, not onesLike(z) (no gradient registered)
    if (labels[s] >= classes) {
      throw new NpkShapeError(`labels[${s}] is ${labels[s]} but the network has ${classes} outputs.`, { field: `labels[${s}]`, value: labels[s] });
    }
    const mask = tf.cast(tf.oneHot(tf.tensor1d([labels[s]], 'int32'), classes), 'float32');
    return maskedSum(z, mask);
  };
}

/**
 * K^v and K^phi for n examples. Memory: the flattened gradients of all n examples, n * (|Theta^V|
 * + |Theta^F|) float32 on the host (about 270 MB for the protocol's n = 200, w = 128, 5 hidden
 * layers, MNIST). No tensor outlives the call.
 */
export async function ntkSplitKernels(input: NtkSplitInput): Promise<NtkSplitKernels> {
  const { n, output, valueVars, featureVars } = input;
  expectPositiveInt('n', n);
  validateVars(valueVars, featureVars);
  const allVars = [...valueVars, ...featureVars];

  // The output must be a scalar; check once, outside any gradient tape.
  const rank = tf.tidy(() => output(0).rank);
  if (rank !== 0) throw new NpkShapeError(`output(s) must return a scalar (rank 0), got rank ${rank}.`, { field: 'output', rank });

  const pv = valueVars.reduce((acc, v) => acc + v.size, 0);
  const pf = featureVars.reduce((acc, v) => acc + v.size, 0);
  // Psi_v^T and Psi_phi^T, one row of gradients per example, on the host.
  const gv = new Float32Array(n * pv);
  const gf = new Float32Array(n * pf);
  for (let s = 0; s < n; s++) {
    let v: tf.Tensor1D;
    let f: tf.Tensor1D;
    try {
      [v, f] = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => output(s), allVars);
        value.dispose();
        return [flatten(valueVars, grads), flatten(featureVars, grads)];
      });
    } catch (err) {
      if (err instanceof NpfError) throw err;
      // e.g. an output that uses none of the variables, or an op without a gradient.
      throw new NpkShapeError(`the gradient of output(${s}) could not be computed: ${describeError(err)}`, { field: 'output', example: s }, { cause: err });
    }
    try {
      const [dv, df] = await Promise.all([v.data(), f.data()]);
      gv.set(dv as Float32Array, s * pv);
      gf.set(df as Float32Array, s * pf);
    } finally {
      tf.dispose([v, f]);
    }
  }
  return { n, kv: gramRows(gv, n, pv), kphi: gramRows(gf, n, pf) };
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

/** Columns per pass of gramRows: 4 KiB of each row, so all n rows of a pass stay in cache. */
const GRAM_CHUNK = 1024;

/**
 * G G^T (n x n, float64 accumulation) of a row-major n x p float32 matrix. Register-blocked 4 x 4
 * over rows and chunked over columns so the pass works from cache; the upper triangle is computed
 * and mirrored. Host-side on purpose: on the cpu backend this is several times faster than
 * tf.matMul at p ~ 1.7e5 (bench/ntk-split-bench.ts), and it accumulates in float64.
 */
export function gramRows(g: Float32Array, n: number, p: number): Float64Array {
  expectPositiveInt('n', n);
  if (g.length !== n * p) throw new NpkShapeError(`gradient matrix has length ${g.length}, expected n * p = ${n * p}.`, { field: 'g' });
  const k = new Float64Array(n * n);
  const last = n - 1;
  for (let c0 = 0; c0 < p; c0 += GRAM_CHUNK) {
    const c1 = Math.min(p, c0 + GRAM_CHUNK);
    for (let i0 = 0; i0 < n; i0 += 4) {
      // Rows past the end are clamped to the last row; their sums are discarded below.
      const a0 = i0 * p;
      const a1 = Math.min(i0 + 1, last) * p;
      const a2 = Math.min(i0 + 2, last) * p;
      const a3 = Math.min(i0 + 3, last) * p;
      for (let j0 = i0; j0 < n; j0 += 4) {
        const b0 = j0 * p;
        const b1 = Math.min(j0 + 1, last) * p;
        const b2 = Math.min(j0 + 2, last) * p;
        const b3 = Math.min(j0 + 3, last) * p;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let c = c0; c < c1; c++) {
          const x0 = g[a0 + c], x1 = g[a1 + c], x2 = g[a2 + c], x3 = g[a3 + c];
          const y0 = g[b0 + c], y1 = g[b1 + c], y2 = g[b2 + c], y3 = g[b3 + c];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const sums = [s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33];
        for (let r = 0; r < 4; r++) {
          const i = i0 + r;
          if (i >= n) break;
          for (let q = 0; q < 4; q++) {
            const j = j0 + q;
            if (j >= n) break;
            if (j >= i) k[i * n + j] += sums[r * 4 + q];
          }
        }
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) k[j * n + i] = k[i * n + j];
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
