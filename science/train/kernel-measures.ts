/**
 * The kernel measurements of a trial (spec.measure), plugged into the training loop through the
 * MeasureHook seam: nu_t of the NPK (Figure 2 middle) and the NTK split K_v / K_phi of a DNPFL
 * network. The maths is science/npk/; this file picks the fixed example subset, reads the
 * model's gate activity and gradients, and disposes every tensor it makes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '../../common/errors.js';
import type { Dataset } from '../datasets/dataset.js';
import { flatInputSize } from '../datasets/dataset.js';
import { measureNtkSplit, measureNu } from '../npk/index.js';
import { scalarOutputName, trueClassLogit } from '../npk/ntk-split.js';
import { NTK_SPLIT_NEEDS, measuresNtkSplit } from '../regimes.js';
import type { TrialSpec } from '../types.js';
import type { MeasureHook, MeasureHookFactory, MeasurePoints } from './measure-hook.js';
import type { TrialModel } from './trial-model.js';

/** Indices of the first `perClass` training examples of each class, in file order. */
export function firstPerClass(labels: Int32Array, classes: number, perClass: number, what: string): number[] {
  const taken = new Array<number>(classes).fill(0);
  const picked: number[] = [];
  for (let i = 0; i < labels.length && picked.length < classes * perClass; i++) {
    const c = labels[i];
    if (taken[c] < perClass) {
      taken[c]++;
      picked.push(i);
    }
  }
  const short = taken.findIndex((t) => t < perClass);
  if (short >= 0) {
    throw new InvalidInputError(`${what}: the training split has only ${taken[short]} examples of class ${short}, ${perClass} per class were asked for`, {
      field: what,
    });
  }
  return picked;
}

function rows(x: Float32Array, dIn: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * dIn);
  idx.forEach((i, r) => out.set(x.subarray(i * dIn, (i + 1) * dIn), r * dIn));
  return out;
}

const due = (epoch: number, every: number | undefined): boolean => every !== undefined && epoch % every === 0;

/**
 * Builds the hook for spec.measure:
 * - npk: nu = y^T H_hat^-1 y (Lemma 4.1, H = Sigma (Hadamard) Lambda, from the 0/1 gate activity of
 *   the ReLU net, or of the feature net of a DGN) on the first `examplesPerClass` training examples
 *   of each class. Needs a 1-output network (binary MNIST, y = -1/+1), as in the paper.
 * - ntkSplit: trace and Frobenius norm of K_v and K_phi (per-example gradients of the true-class
 *   logit, or of the output of a 1-output network, w.r.t. the value network with the head, and
 *   w.r.t. the feature network) on the same kind of subset; DNPFL only. Gradients are taken
 *   w.r.t. the weight matrices only, as the authors did, unless includeBias (docs/ntk-split.md).
 *   The choice is recorded in each point (`parameters`).
 */
export const kernelMeasures: MeasureHookFactory = (spec: TrialSpec, dataset: Dataset): MeasureHook => {
  const m = spec.measure ?? {};
  const dIn = flatInputSize(dataset.inputShape);
  const classes = Math.max(2, dataset.numClasses);
  if (m.npk && (dataset.numClasses !== 1 || !dataset.train.targets)) {
    throw new InvalidInputError(
      `measure.npk: nu = y^T H^-1 y needs a 1-output network with -1/+1 targets (dataset binary-mnist), not '${dataset.name}' with ${dataset.numClasses} classes`,
      { field: 'measure.npk' },
    );
  }
  if (m.ntkSplit && !measuresNtkSplit(spec.regime)) {
    throw new InvalidInputError(`measure.ntkSplit: ${NTK_SPLIT_NEEDS}, not '${spec.regime}'`, { field: 'measure.ntkSplit' });
  }
  if (spec.arch.kind !== 'fc') {
    throw new InvalidInputError(`kernel measurements are implemented for the FC architecture, not '${spec.arch.kind}'`, { field: 'measure' });
  }
  const npkIdx = m.npk ? firstPerClass(dataset.train.labels, classes, m.npk.examplesPerClass, 'measure.npk.examplesPerClass') : [];
  const ntkIdx = m.ntkSplit ? firstPerClass(dataset.train.labels, classes, m.ntkSplit.examplesPerClass, 'measure.ntkSplit.examplesPerClass') : [];
  const npkX = rows(dataset.train.x, dIn, npkIdx);
  const npkY = Float64Array.from(npkIdx, (i) => dataset.train.targets![i]);
  const ntkX = rows(dataset.train.x, dIn, ntkIdx);
  const ntkLabels = Int32Array.from(ntkIdx, (i) => dataset.train.labels[i]);

  async function nuAt(epoch: number, model: TrialModel): Promise<MeasurePoints['npk']> {
    const x = tf.tensor2d(npkX, [npkIdx.length, dIn]);
    let acts: tf.Tensor[] = [];
    try {
      acts = model.gateActivity(x);
      const gates = (await Promise.all(acts.map((a) => a.data()))) as Float32Array[];
      const width = acts[0].shape[1] as number;
      return measureNu({ epoch, gates, width, X: npkX, dIn, y: npkY });
    } finally {
      acts.forEach((a) => a.dispose());
      x.dispose();
    }
  }

  async function ntkAt(epoch: number, model: TrialModel): Promise<MeasurePoints['ntkSplit']> {
    const x = tf.tensor2d(ntkX, [ntkIdx.length, dIn]);
    try {
      const includeBias = m.ntkSplit?.includeBias ?? false;
      const vars = (stack: TrialModel['value']): tf.Variable[] => stack.flatMap((l) => (includeBias && l.bias ? [l.kernel, l.bias] : [l.kernel]));
      return await measureNtkSplit({
        epoch,
        n: ntkIdx.length,
        output: trueClassLogit((xs) => model.logits(xs), x, ntkLabels),
        outputName: scalarOutputName(model.plan.outputs),
        parameters: includeBias ? 'weights+biases' : 'weights',
        valueVars: [...vars(model.value), ...vars([model.head])],
        featureVars: vars(model.feature ?? []),
      });
    } finally {
      x.dispose();
    }
  }

  return {
    async atEpoch(epoch, model) {
      const points: MeasurePoints = {};
      if (m.npk && due(epoch, m.npk.every)) points.npk = await nuAt(epoch, model);
      if (m.ntkSplit && due(epoch, m.ntkSplit.every)) points.ntkSplit = await ntkAt(epoch, model);
      return points;
    },
  };
};
