import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { SINGLE_OUTPUT, TRUE_CLASS_LOGIT, gramRows, kernelSummary, ntkSplitKernels, scalarOutputName, trueClassLogit } from '../../science/npk/ntk-split.js';
import { measureNtkSplit } from '../../science/npk/measure-ntk-split.js';
import { symmetricEigenvalues } from '../../science/npk/symmetric-eigen.js';
import { NpkShapeError } from '../../science/npk/errors.js';
import { maxRelErr, normal, relErr, rng } from './seeded.js';
import { TinyDgn, softmaxSum } from './tiny-dgn.js';

const dIn = 3;
const width = 4;
const hidden = 3;
const classes = 2;
const n = 7;


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
        const up = net.logitsF64(x, feature, value)[labels[s]];
        p[i] = keep - h;
        const down = net.logitsF64(x, feature, value)[labels[s]];
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
    net = new TinyDgn(5, { dIn, width, hidden, classes, beta: 4, eps: 0.1 });
    const rand = rng(6);
    xs = Array.from({ length: n }, () => Array.from({ length: dIn }, () => normal(rand)));
    X = tf.tensor2d(xs);
  });
  afterAll(() => {
    net.dispose();
    X.dispose();
  });

  it('kernels are non-zero, symmetric, positive semi-definite and leak no tensors', async () => {
    const before = tf.memory().numTensors;
    const { kv, kphi } = await ntkSplitKernels({
      n,
      output: trueClassLogit(net.logits, X, labels),
      valueVars: net.valueVars,
      featureVars: net.featureVars,
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

  it('K^v and K^phi equal Gram matrices of finite-difference gradients (trace = sum of squared gradient norms)', async () => {
    const { kv, kphi } = await ntkSplitKernels({ n, output: trueClassLogit(net.logits, X, labels), valueVars: net.valueVars, featureVars: net.featureVars });
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

  it('a 1-output network (binary MNIST): the output itself, whatever the 0/1 label, with the finite-difference kernels', async () => {
    const one = new TinyDgn(9, { dIn, width, hidden, classes: 1, beta: 4, eps: 0.1 });
    try {
      expect(scalarOutputName(1)).toBe(SINGLE_OUTPUT);
      expect(scalarOutputName(10)).toBe(TRUE_CLASS_LOGIT);
      const out = trueClassLogit(one.logits, X, labels); // labels 1 would be out of range as a class index
      const feature = one.featureVars.map((v) => Float64Array.from(v.dataSync()));
      const value = one.valueVars.map((v) => Float64Array.from(v.dataSync()));
      for (let s = 0; s < n; s++) {
        const got = tf.tidy(() => out(s).dataSync()[0]);
        expect(relErr(got, one.logitsF64(xs[s], feature, value)[0])).toBeLessThan(1e-5);
      }
      const { kv, kphi } = await ntkSplitKernels({ n, output: out, valueVars: one.valueVars, featureVars: one.featureVars });
      const zeros = labels.map(() => 0);
      expect(maxRelErr(kv, gramOf(fdGradients(one, xs, zeros, 'value')))).toBeLessThan(1e-3);
      expect(maxRelErr(kphi, gramOf(fdGradients(one, xs, zeros, 'feature')))).toBeLessThan(1e-3);
    } finally {
      one.dispose();
    }
  });

  it('measureNtkSplit reports trace and Frobenius norm of each kernel and the output name', async () => {
    const before = tf.memory().numTensors;
    const input = { n, output: trueClassLogit(net.logits, X, labels), valueVars: net.valueVars, featureVars: net.featureVars };
    const point = await measureNtkSplit({ ...input, epoch: 5, outputName: TRUE_CLASS_LOGIT, parameters: 'weights+biases' });
    expect(tf.memory().numTensors).toBe(before);
    const { kv, kphi } = await ntkSplitKernels(input);
    expect(point).toEqual({
      epoch: 5,
      output: 'true-class-logit',
      parameters: 'weights+biases',
      valueTrace: kernelSummary(kv, n).trace,
      valueFrobenius: kernelSummary(kv, n).frobenius,
      featureTrace: kernelSummary(kphi, n).trace,
      featureFrobenius: kernelSummary(kphi, n).frobenius,
    });
    expect(point.valueFrobenius).toBeGreaterThan(0);
    expect(point.valueFrobenius).toBeLessThanOrEqual(point.valueTrace * (1 + 1e-9)); // ||K||_F <= trace(K) for PSD K
  });

  it("the notebook's output, the sum of the softmax outputs, is identically 1: its kernels vanish", async () => {
    const sumOfSoftmax = (s: number) => softmaxSum(net.logits(tf.slice(X, [s, 0], [1, -1]))) as tf.Scalar;
    const before = tf.memory().numTensors;
    const bad = await measureNtkSplit({ n, output: sumOfSoftmax, valueVars: net.valueVars, featureVars: net.featureVars, epoch: 0, outputName: 'softmax-sum', parameters: 'weights+biases' });
    const good = await measureNtkSplit({ n, output: trueClassLogit(net.logits, X, labels), valueVars: net.valueVars, featureVars: net.featureVars, epoch: 0, outputName: TRUE_CLASS_LOGIT, parameters: 'weights+biases' });
    expect(tf.memory().numTensors).toBe(before);
    expect(bad.valueTrace).toBeLessThan(1e-8 * good.valueTrace);
    expect(bad.featureTrace).toBeLessThan(1e-8 * good.featureTrace);
  });

  it('rejects non-scalar outputs, overlapping or frozen variable groups, bad labels', async () => {
    const before = tf.memory().numTensors;
    const logitsRow = (s: number) => net.logits(tf.slice(X, [s, 0], [1, -1])) as unknown as tf.Scalar;
    await expect(ntkSplitKernels({ n, output: logitsRow, valueVars: net.valueVars, featureVars: net.featureVars })).rejects.toThrow(/must return a scalar/);
    const out = trueClassLogit(net.logits, X, labels);
    await expect(ntkSplitKernels({ n, output: out, valueVars: net.valueVars, featureVars: [net.valueVars[0]] })).rejects.toThrow(/appears twice/);
    const frozen = tf.tidy(() => tf.variable(tf.zeros([2]), false)); // tidy disposes the zeros, keeps the variable
    await expect(ntkSplitKernels({ n, output: out, valueVars: net.valueVars, featureVars: [frozen] })).rejects.toThrow(NpkShapeError);
    frozen.dispose();
    const constant = () => tf.scalar(1);
    await expect(ntkSplitKernels({ n, output: constant, valueVars: net.valueVars, featureVars: net.featureVars })).rejects.toThrow(
      /the gradient of output\(0\) could not be computed/,
    );
    expect(() => trueClassLogit(net.logits, X, [0, 1])).toThrow(/labels has length 2/);
    expect(() => trueClassLogit(net.logits, X, [0, 1, 1, 0, 1, 0, 0.5])).toThrow(/labels\[6\] is 0.5/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('npk - gramRows', () => {
  it('equals the naive G G^T for row counts around the 4-row block and columns across chunks', () => {
    const rand = rng(12);
    for (const rows of [1, 2, 3, 4, 5, 7, 9]) {
      for (const p of [1, 3, 2500]) {
        const g = Float32Array.from({ length: rows * p }, () => normal(rand));
        const naive = new Float64Array(rows * rows);
        for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) for (let c = 0; c < p; c++) naive[i * rows + j] += g[i * p + c] * g[j * p + c];
        expect(maxRelErr(gramRows(g, rows, p), naive)).toBeLessThan(1e-12);
      }
    }
    expect(() => gramRows(new Float32Array(5), 2, 3)).toThrow(NpkShapeError);
  });
});
