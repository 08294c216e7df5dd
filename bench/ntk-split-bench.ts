/**
 * Timing of one NTK-split measurement at the protocol's size (docs/protocol.md "NTK split"): n = 200
 * examples of 784 pixels, soft-gate DNPFL FC with 5 hidden layers of width 128, 10 classes.
 * Random inputs and weights, seeded. Backend: argv[2], 'cpu' (default) or 'wasm'.
 * Run: npx vite-node bench/ntk-split-bench.ts [cpu|wasm]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TRUE_CLASS_LOGIT, trueClassLogit } from '../science/npk/ntk-split.js';
import { measureNtkSplit } from '../science/npk/measure-ntk-split.js';
import { TinyDgn } from '../test/npk/tiny-dgn.js';
import { rng } from '../test/npk/seeded.js';

const backend = process.argv[2] ?? 'cpu';
if (backend === 'wasm') {
  const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(pathToFileURL(dist).href + '/');
}
await tf.setBackend(backend);
await tf.ready();

const n = 200;
const shape = { dIn: 784, width: 128, hidden: 5, classes: 10, beta: 4, eps: 0.1 };
const net = new TinyDgn(1, shape);
const rand = rng(2);
const X = tf.tensor2d(Float32Array.from({ length: n * shape.dIn }, () => rand()), [n, shape.dIn]);
const labels = Array.from({ length: n }, (_, s) => s % shape.classes);
const params = (vars: tf.Variable[]) => vars.reduce((acc, v) => acc + v.size, 0);
console.log(`backend=${tf.getBackend()} n=${n} |Theta^V|=${params(net.valueVars)} |Theta^F|=${params(net.featureVars)}`);
for (let rep = 0; rep < 2; rep++) {
  const t0 = performance.now();
  const point = await measureNtkSplit({
    epoch: 0,
    n,
    output: trueClassLogit(net.logits, X, labels),
    outputName: TRUE_CLASS_LOGIT,
    parameters: 'weights+biases',
    valueVars: net.valueVars,
    featureVars: net.featureVars,
  });
  console.log(`measureNtkSplit: ${((performance.now() - t0) / 1000).toFixed(2)} s`, JSON.stringify(point));
}
net.dispose();
X.dispose();
console.log(`tensors left after disposing the network and inputs: ${tf.memory().numTensors}`);
