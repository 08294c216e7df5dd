/**
 * A small learnable dataset in the Dataset shape (not a test file): 4x4x1 "images", 3 classes
 * given by the argmax of a fixed linear map of the pixels. Deterministic.
 */
import type { Dataset, Split } from '../../science/datasets/dataset.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import type { TrialSpec } from '../../science/types.js';
import { mulberry32 } from '../../science/models/prng.js';

function split(n: number, seed: number, classes: number): Split {
  const rng = mulberry32(seed);
  const size = 16;
  const x = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const scores = new Array<number>(classes).fill(0);
    for (let j = 0; j < size; j++) {
      const v = rng.next();
      x[i * size + j] = v;
      for (let c = 0; c < classes; c++) scores[c] += v * Math.sin(1 + j * (c + 1));
    }
    labels[i] = scores.indexOf(Math.max(...scores));
  }
  return { x, labels, n };
}

export function syntheticDataset(nTrain = 256, nTest = 128, classes = 3): Dataset {
  return {
    name: 'mnist',
    inputShape: [4, 4, 1],
    numClasses: classes,
    classNames: Array.from({ length: classes }, (_, i) => String(i)),
    train: split(nTrain, 11, classes),
    test: split(nTest, 12, classes),
  };
}

/** The same inputs with a single -1/+1 regression target (class 0 vs the rest), like binary-mnist. */
export function syntheticBinaryDataset(nTrain = 128, nTest = 64): Dataset {
  const d = syntheticDataset(nTrain, nTest, 2);
  const withTargets = (s: Split): Split => ({ ...s, targets: Float32Array.from(s.labels, (l) => (l === 0 ? -1 : 1)) });
  return { ...d, name: 'binary-mnist', numClasses: 1, classNames: ['4', '7'], train: withTargets(d.train), test: withTargets(d.test) };
}

/**
 * A small FC trial for the synthetic datasets (3 hidden layers of `width`, Adam 1e-2, 3 epochs,
 * batch 16, seed 5, wasm); `over` replaces any field.
 */
export function tinyTrialSpec(over: Record<string, unknown> = {}, width = 16): TrialSpec {
  return resolveTrialSpec({
    dataset: { name: 'mnist' },
    arch: { kind: 'fc', width, depth: 3 },
    regime: 'relu',
    optimizer: { name: 'adam', lr: 1e-2 },
    epochs: 3,
    batchSize: 16,
    seed: 5,
    backend: 'wasm',
    ...over,
  });
}
