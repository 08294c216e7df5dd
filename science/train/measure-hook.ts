/**
 * The seam where kernel measurements (spec.measure: nu_t of Figure 2 middle, the NTK split) plug
 * into the training loop. The NPK maths lives in science/npk/; this file only fixes the shape.
 */
import type { NpkPoint, NtkSplitPoint, TrialSpec } from '../types.js';
import type { Dataset } from '../datasets/dataset.js';
import type { TrialModel } from './trial-model.js';

export interface MeasurePoints {
  npk?: NpkPoint;
  ntkSplit?: NtkSplitPoint;
}

/**
 * Called by the training loop at epoch 0 (before the first step) and after every epoch; the
 * hook decides from spec.measure.*.every whether to measure at `epoch`. It may read the model
 * (`model.gateActivity`, `model.logits`, `model.value`, `model.feature`, `model.trainable`) but
 * must not change it, and must dispose every tensor it makes.
 */
export interface MeasureHook {
  atEpoch(epoch: number, model: TrialModel): MeasurePoints | Promise<MeasurePoints>;
  dispose?(): void;
}

/** Builds the hook for a trial whose spec has `measure`. */
export type MeasureHookFactory = (spec: TrialSpec, dataset: Dataset) => MeasureHook | Promise<MeasureHook>;
