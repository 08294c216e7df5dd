import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { TRUE_CLASS_LOGIT, kernelSummary, ntkSplitKernels, trueClassLogit } from '../../science/npk/ntk-split.js';
import { measureNtkSplit } from '../../science/npk/measure-ntk-split.js';
import { symmetricEigenvalues } from '../../science/npk/symmetric-eigen.js';
import { NpkShapeError } from '../../science/npk/errors.js';
import { maxRelErr, normal, relErr, rng } from './seeded.js';

const dIn = 3;
const width = 4;
const hidden = 3;
const classes = 2;
const n = 7;
const beta = 4;
const eps = 0.1;


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
const softGated = custom((qv: tf.Tensor, qf: tf.Tensor, save: Saver) => {
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
const softmaxSum = custom((z: tf.Tensor2D, save: Saver) => {
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

/** A tiny soft-gate DGN (protocol.md "Deep gated network") with its weights as tf.Variables. */
class TinyDgn {
  readonly feature: Layer[] = [];
  readonly value: Layer[] = [];
  constructor(seed: number) {
    const rand = rng(seed);
    const layer = (fanIn: number, fanOut: number): Layer => ({
      w: tf.variable(tf.tensor2d(Array.from({ length: fanIn * fanOut }, () => normal(rand) * Math.sqrt(2 / fanIn)), [fanIn, fanOut])),
      b: tf.variable(tf.tensor1d(Array.from({ length: fanOut }, () => 0.1 * normal(rand)))),
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
    let zf: tf.Tensor2D = x;
    let zv: tf.Tensor2D = x;
    for (let l = 0; l < hidden; l++) {
      const qf = dense(zf, this.feature[l].w, this.feature[l].b);
      zf = relu(qf) as tf.Tensor2D;
      zv = softGated(dense(zv, this.value[l].w, this.value[l].b), qf) as tf.Tensor2D;
    }
    const out = this.value[hidden];
    return dense(zv, out.w, out.b) as tf.Tensor2D;
  };
  /** The same network in float64 plain JS, from flat parameter vectors (for finite differences). */
  static logitsF64(x: number[], feature: Float64Array[], value: Float64Array[]): number[] {
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

/** Per-example gradients of the true-class logit by central differences in float64. */
function fdGradients(net: TinyDgn, X: number[][], labels: number[], group: 'value' | 'feature'): Float64Array[] {
  const feature = net.featureVars.map((v) => Float64Array.from(v.dataSync()));
  const value = net.valueVars.map((v) => Float64Array.from(v.dataSync()));
  const params = group === 'value' ? value : feature;
  const h = 1e-6;
  return X.map((x, s) => {
    const grad: number[] = [];
    for (const p of params) {
      for (let i = 0; i < p.length; i++) {
        const keep = p[i];
        p[i] = keep + h;
        const up = TinyDgn.logitsF64(x, feature, value)[labels[s]];
        p[i] = keep - h;
        const down = TinyDgn.logitsF64(x, feature, value)[labels[s]];
        p[i] = keep;
        grad.push((up - down) / (2 * h));
      }
    }
    return Float64Array.from(grad);
  });
}

function gramOf(rows: Float64Array[]): Float64Array {
  const m = rows.length;
  const k = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) k[i * m + j] = rows[i].reduce((acc, g, c) => acc + g * rows[j][c], 0);
  return k;
}

describe('npk - NTK split of a soft-gate DGN', () => {
  let net: TinyDgn;
  let X: tf.Tensor2D;
  let xs: number[][];
  const labels = [0, 1, 1, 0, 1, 0, 0];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    net = new TinyDgn(5);
    const rand = rng(6);
    xs = Array.from({ length: n }, () => Array.from({ length: dIn }, () => normal(rand)));
    X = tf.tensor2d(xs);
  });
  afterAll(() => {
    net.dispose();
    X.dispose();
  });

  it('kernels are non-zero, symmetric, PSD and leak no tensors', () => {
    const before = tf.memory().numTensors;
    const { kv, kphi } = ntkSplitKernels({
      n,
      output: trueClassLogit(net.logits, X, labels),
      valueVars: net.valueVars,
      featureVars: net.featureVars,
      blockSize: 3, // exercise several blocks
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const k of [kv, kphi]) {
      expect(kernelSummary(k, n).trace).toBeGreaterThan(1e-3);
      let asym = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) asym = Math.max(asym, Math.abs(k[i * n + j] - k[j * n + i]));
      expect(asym).toBeLessThan(1e-5 * Math.max(...k.map(Math.abs)));
      const eig = symmetricEigenvalues(k, n);
      expect(eig[0]).toBeGreaterThanOrEqual(-1e-6 * eig[n - 1]);
    }
  });

  it('K^v and K^phi equal Gram matrices of finite-difference gradients (trace = sum of squared gradient norms)', () => {
    const { kv, kphi } = ntkSplitKernels({ n, output: trueClassLogit(net.logits, X, labels), valueVars: net.valueVars, featureVars: net.featureVars });
    const gv = fdGradients(net, xs, labels, 'value');
    const gf = fdGradients(net, xs, labels, 'feature');
    const sumSq = (rows: Float64Array[]) => rows.reduce((acc, g) => acc + g.reduce((a, t) => a + t * t, 0), 0);
    expect(relErr(kernelSummary(kv, n).trace, sumSq(gv))).toBeLessThan(1e-3);
    expect(relErr(kernelSummary(kphi, n).trace, sumSq(gf))).toBeLessThan(1e-3);
    expect(maxRelErr(kv, gramOf(gv))).toBeLessThan(1e-3);
    expect(maxRelErr(kphi, gramOf(gf))).toBeLessThan(1e-3);
    // The groups are not interchangeable: the check would catch swapped variable lists.
    expect(maxRelErr(kv, gramOf(gf))).toBeGreaterThan(1e-2);
  });

  it('measureNtkSplit reports trace and Frobenius norm of each kernel and the output name', () => {
    const before = tf.memory().numTensors;
    const input = { n, output: trueClassLogit(net.logits, X, labels), valueVars: net.valueVars, featureVars: net.featureVars };
    const point = measureNtkSplit({ ...input, epoch: 5, outputName: TRUE_CLASS_LOGIT });
    expect(tf.memory().numTensors).toBe(before);
    const { kv, kphi } = ntkSplitKernels(input);
    expect(point).toEqual({
      epoch: 5,
      output: 'true-class-logit',
      valueTrace: kernelSummary(kv, n).trace,
      valueFrobenius: kernelSummary(kv, n).frobenius,
      featureTrace: kernelSummary(kphi, n).trace,
      featureFrobenius: kernelSummary(kphi, n).frobenius,
    });
    expect(point.valueFrobenius).toBeGreaterThan(0);
    expect(point.valueFrobenius).toBeLessThanOrEqual(point.valueTrace * (1 + 1e-9)); // ||K||_F <= trace(K) for PSD K
  });

  it("the notebook's output, the sum of the softmax outputs, is identically 1: its kernels vanish", () => {
    const sumOfSoftmax = (s: number) => softmaxSum(net.logits(tf.slice(X, [s, 0], [1, -1]))) as tf.Scalar;
    const before = tf.memory().numTensors;
    const bad = measureNtkSplit({ n, output: sumOfSoftmax, valueVars: net.valueVars, featureVars: net.featureVars, epoch: 0, outputName: 'softmax-sum' });
    const good = measureNtkSplit({ n, output: trueClassLogit(net.logits, X, labels), valueVars: net.valueVars, featureVars: net.featureVars, epoch: 0, outputName: TRUE_CLASS_LOGIT });
    expect(tf.memory().numTensors).toBe(before);
    expect(bad.valueTrace).toBeLessThan(1e-8 * good.valueTrace);
    expect(bad.featureTrace).toBeLessThan(1e-8 * good.featureTrace);
  });

  it('rejects non-scalar outputs, overlapping or frozen variable groups, bad labels', () => {
    const before = tf.memory().numTensors;
    const logitsRow = (s: number) => net.logits(tf.slice(X, [s, 0], [1, -1])) as unknown as tf.Scalar;
    expect(() => ntkSplitKernels({ n, output: logitsRow, valueVars: net.valueVars, featureVars: net.featureVars })).toThrow(/must return a scalar/);
    const out = trueClassLogit(net.logits, X, labels);
    expect(() => ntkSplitKernels({ n, output: out, valueVars: net.valueVars, featureVars: [net.valueVars[0]] })).toThrow(/appears twice/);
    const frozen = tf.tidy(() => tf.variable(tf.zeros([2]), false)); // tidy disposes the zeros, keeps the variable
    expect(() => ntkSplitKernels({ n, output: out, valueVars: net.valueVars, featureVars: [frozen] })).toThrow(NpkShapeError);
    frozen.dispose();
    expect(() => trueClassLogit(net.logits, X, [0, 1])).toThrow(/labels has length 2/);
    expect(() => trueClassLogit(net.logits, X, [0, 1, 1, 0, 1, 0, 0.5])).toThrow(/labels\[6\] is 0.5/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
