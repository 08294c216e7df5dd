/**
 * The epoch loop of one trial: seeded shuffles, steps, one loss read-back every `readEvery`
 * steps, test evaluation, best-so-far tracking, checkpoints, divergence and cancellation; resume
 * states written every `resumeEveryMs` at an epoch's end, and a run continued from one
 * (science/checkpoint/resume-state.ts, docs/resume.md).
 *
 * A trial's status moves running -> succeeded | diverged | cancelled, once, at the end.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdapterInfo, CheckpointInfo, EpochRecord, NpkPoint, NtkSplitPoint, TrialProgress, TrialResult, TrialSpec, TrialStatus } from '../types.js';
import type { Dataset } from '../datasets/dataset.js';
import { inputBatchShape } from '../models/network.js';
import { permutation } from '../models/prng.js';
import { batchCount, makeBatch, type BatchSource } from './batches.js';
import { correctCount, lossValue, makeTarget } from './loss.js';
import type { MeasureHook } from './measure-hook.js';
import { createOptimizer } from './optimizer.js';
import { trainStep } from './train-step.js';
import type { TrialModel } from './trial-model.js';
import { trialRng } from './trial-streams.js';
import { checkpointTensors } from '../checkpoint/model-checkpoint.js';
import { writeCheckpoint } from '../checkpoint/checkpoint-io.js';
import type { CheckpointHeader } from '../checkpoint/format.js';
import { RESUME_CHECKPOINT_NAME, resumeIdentity, type ResumeHeader, type ResumeState, type TensorGroup } from '../checkpoint/resume-state.js';
import { CheckpointError } from '../checkpoint/errors.js';

export interface TrainLoopOptions {
  spec: TrialSpec;
  model: TrialModel;
  dataset: Dataset;
  /** The backend in use, recorded in the result. */
  backend: string;
  backendNote?: string;
  /** The GPU adapter in use, recorded in the result. */
  adapter?: AdapterInfo;
  checkpointDir: string;
  signal?: AbortSignal;
  onProgress?: (event: TrialProgress) => void;
  measure?: MeasureHook;
  /** Steps between loss read-backs (progress events, early divergence check). Default 100. */
  readEvery?: number;
  /** Clock, ms. Default performance.now. */
  now?: () => number;
  /** Continue from this resume state (decoded and checked against the spec by the caller). */
  resume?: ResumeState;
  /** Write a resume state at an epoch's end once this long has passed since the last (0: every epoch). Absent: never. */
  resumeEveryMs?: number;
}

interface Evaluation {
  loss: number;
  accuracy: number;
}

/** The first value of a scalar, read asynchronously (a GPU backend has no synchronous read in Node). */
async function readScalar(t: tf.Tensor): Promise<number> {
  return (await t.data())[0];
}

/** Test-set loss and accuracy, accumulated on the device and read once. */
async function evaluate(model: TrialModel, spec: TrialSpec, src: BatchSource, exampleSize: number): Promise<Evaluation> {
  const batch = model.plan.flatInput ? 1000 : 100;
  let lossSum = tf.scalar(0);
  let correct = tf.scalar(0);
  for (let b = 0; b < batchCount(src.n, batch); b++) {
    const data = makeBatch(src, exampleSize, batch, b);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor(data.x, inputBatchShape(model.plan, data.size));
      const target = makeTarget(data.labels, data.targets, model.plan.outputs);
      const logits = model.logits(x);
      return [tf.add(lossSum, tf.mul(lossValue(spec.loss, logits, target), data.size)), tf.add(correct, correctCount(logits, target))];
    });
    lossSum.dispose();
    correct.dispose();
    lossSum = l as tf.Scalar;
    correct = c as tf.Scalar;
  }
  let ls: number;
  let cs: number;
  try {
    [ls, cs] = await Promise.all([readScalar(lossSum), readScalar(correct)]);
  } finally {
    lossSum.dispose();
    correct.dispose();
  }
  return { loss: ls / src.n, accuracy: cs / src.n };
}

/** Let timers and abort events run: the steps themselves are synchronous. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Copies of the checkpoint tensors (kept across epochs, outside any tidy). */
type Snapshot = { epoch: number; testAccuracy: number; tensors: { name: string; tensor: tf.Tensor }[] };

function takeSnapshot(model: TrialModel, epoch: number, testAccuracy: number): Snapshot {
  return { epoch, testAccuracy, tensors: checkpointTensors(model).map(({ name, tensor }) => ({ name, tensor: tf.keep(tensor.clone()) })) };
}

function disposeSnapshot(s: Snapshot | undefined): void {
  for (const t of s?.tensors ?? []) t.tensor.dispose();
}

/** Assign saved values to the variables of the same name and shape; a missing or misshapen one is refused. */
function restoreInto(targets: ReadonlyArray<{ name: string; tensor: tf.Tensor }>, saved: TensorGroup, what: string): void {
  const byName = new Map(saved.map((t) => [t.name, t]));
  for (const { name, tensor } of targets) {
    const s = byName.get(name);
    if (!s || s.shape.join('x') !== tensor.shape.join('x')) {
      throw new CheckpointError(RESUME_CHECKPOINT_NAME, 'wrong-shape', `${what} ${name}: ${s ? `shape ${s.shape.join('x')}, the network's is ${tensor.shape.join('x')}` : 'missing'}`);
    }
    tf.tidy(() => (tensor as tf.Variable).assign(tf.tensor(s.values, s.shape)));
  }
}

/** A snapshot (kept tensors) from saved values. */
function snapshotFrom(epoch: number, testAccuracy: number, saved: TensorGroup): Snapshot {
  return { epoch, testAccuracy, tensors: saved.map((t) => ({ name: t.name, tensor: tf.keep(tf.tensor(t.values, t.shape)) })) };
}

export async function trainLoop(opts: TrainLoopOptions): Promise<TrialResult> {
  const { spec, model, dataset, signal, onProgress } = opts;
  const now = opts.now ?? (() => performance.now());
  const readEvery = opts.readEvery ?? 100;
  const start = now();
  const exampleSize = dataset.inputShape.reduce((a, b) => a * b, 1);
  const train: BatchSource = dataset.train;
  const test: BatchSource = dataset.test;
  const steps = batchCount(train.n, spec.batchSize);
  const shuffleRng = trialRng(spec.seed, 'shuffle', model.regime);
  const optimizer = createOptimizer(spec.optimizer, model.trainable);
  const wantBestAt = new Set(spec.checkpoints?.bestAtEpochs ?? []);
  const keepBest = Boolean(spec.checkpoints?.best) || wantBestAt.size > 0;

  const epochs: EpochRecord[] = [];
  const checkpoints: CheckpointInfo[] = [];
  const npk: NpkPoint[] = [];
  const ntkSplit: NtkSplitPoint[] = [];
  let status: TrialStatus | 'running' = 'running';
  let divergedAtEpoch: number | undefined;
  let best = { accuracy: -1, epoch: 0 };
  let bestSnapshot: Snapshot | undefined;
  /** Named checkpoints written, with their tensors' values: a resume state carries them. */
  const saved: Array<{ name: string; epoch: number; testAccuracy: number; tensors: TensorGroup }> = [];
  const resume = opts.resume;
  const firstEpoch = resume ? resume.meta.epoch + 1 : 1;
  const earlierWallMs = resume?.meta.wallMs ?? 0;
  let lastResumePoint = start;

  const emit = (e: TrialProgress): void => onProgress?.(e);

  const save = async (name: string, epoch: number, testAccuracy: number, tensors: { name: string; tensor: tf.Tensor }[]): Promise<void> => {
    const header: CheckpointHeader = {
      format: 'npf-checkpoint',
      version: 1,
      arch: spec.arch,
      inputShape: dataset.inputShape,
      outputs: model.plan.outputs,
      regime: spec.regime,
      name,
      epoch,
      testAccuracy,
      seed: spec.seed,
      tensors: tensors.map((t) => ({ name: t.name, shape: t.tensor.shape })),
    };
    const data = await Promise.all(tensors.map(async (t) => (await t.tensor.data()) as Float32Array));
    const ref = await writeCheckpoint(opts.checkpointDir, { header, data });
    const info: CheckpointInfo = { name, path: ref.path, sha256: ref.sha256, epoch, testAccuracy };
    checkpoints.push(info);
    if (opts.resumeEveryMs !== undefined) saved.push({ name, epoch, testAccuracy, tensors: tensors.map((t, i) => ({ name: t.name, shape: t.tensor.shape, values: data[i] })) });
    emit({ kind: 'checkpoint', checkpoint: info });
  };

  /** The trial as of the end of `epoch`, as resume.npfckpt; announced as a 'resume-point'. */
  const writeResumePoint = async (epoch: number): Promise<void> => {
    const groups: Array<{ name: string; tensor: { shape: number[] }; values: Float32Array }> = [];
    // Asynchronous reads: a GPU backend has no synchronous one in Node.
    const read = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;
    for (const t of checkpointTensors(model)) groups.push({ name: `model.${t.name}`, tensor: t.tensor, values: await read(t.tensor) });
    for (const [i, v] of optimizer.slots.entries()) groups.push({ name: `opt.${i}`, tensor: v, values: await read(v) });
    for (const t of bestSnapshot?.tensors ?? []) groups.push({ name: `best.${t.name}`, tensor: t.tensor, values: await read(t.tensor) });
    for (const s of saved) for (const t of s.tensors) groups.push({ name: `saved.${s.name}.${t.name}`, tensor: t, values: t.values });
    const last = epochs[epochs.length - 1];
    const header: ResumeHeader = {
      format: 'npf-checkpoint',
      version: 1,
      arch: spec.arch,
      inputShape: dataset.inputShape,
      outputs: model.plan.outputs,
      regime: spec.regime,
      name: RESUME_CHECKPOINT_NAME,
      epoch,
      testAccuracy: last?.testAccuracy ?? 0,
      seed: spec.seed,
      tensors: groups.map((g) => ({ name: g.name, shape: g.tensor.shape })),
      resume: {
        trial: resumeIdentity(spec),
        epoch,
        optimizer: { name: spec.optimizer.name, step: optimizer.step, slots: optimizer.slots.length },
        best,
        hasBest: bestSnapshot !== undefined,
        epochs: [...epochs],
        npk: [...npk],
        ntkSplit: [...ntkSplit],
        saved: saved.map(({ name, epoch: e, testAccuracy }) => ({ name, epoch: e, testAccuracy })),
        wallMs: earlierWallMs + now() - start,
      },
    };
    const ref = await writeCheckpoint(opts.checkpointDir, { header, data: groups.map((g) => g.values) });
    emit({ kind: 'resume-point', checkpoint: { name: RESUME_CHECKPOINT_NAME, path: ref.path, sha256: ref.sha256, epoch, testAccuracy: header.testAccuracy } });
  };

  const measureAt = async (epoch: number): Promise<void> => {
    if (!opts.measure) return;
    const points = await opts.measure.atEpoch(epoch, model);
    if (points.npk) {
      npk.push(points.npk);
      emit({ kind: 'npk', point: points.npk });
    }
    if (points.ntkSplit) {
      ntkSplit.push(points.ntkSplit);
      emit({ kind: 'ntk-split', point: points.ntkSplit });
    }
  };

  emit({ kind: 'started', backend: opts.backend, backendNote: opts.backendNote, ...(opts.adapter ? { adapter: opts.adapter } : {}), trainExamples: train.n, testExamples: test.n, stepsPerEpoch: steps });
  try {
    if (resume) {
      // Weights, optimiser state, best-so-far, records and named checkpoints as of its epoch.
      restoreInto(checkpointTensors(model), resume.model, 'weights');
      restoreInto(optimizer.slots.map((v, i) => ({ name: String(i), tensor: v })), resume.slots, 'optimiser state');
      optimizer.step = resume.meta.optimizer.step;
      best = { ...resume.meta.best };
      if (resume.meta.hasBest) bestSnapshot = snapshotFrom(best.epoch, best.accuracy, resume.best);
      epochs.push(...resume.meta.epochs);
      npk.push(...resume.meta.npk);
      ntkSplit.push(...resume.meta.ntkSplit);
      for (const s of resume.meta.saved) {
        const snap = snapshotFrom(s.epoch, s.testAccuracy, resume.saved.get(s.name) ?? []);
        try {
          await save(s.name, s.epoch, s.testAccuracy, snap.tensors);
        } finally {
          disposeSnapshot(snap);
        }
      }
      // The data order: the finished epochs' shuffles are drawn and dropped.
      for (let e = 1; e < firstEpoch; e++) permutation(train.n, shuffleRng);
      emit({ kind: 'resumed', fromEpoch: resume.meta.epoch });
    } else {
      await measureAt(0);
    }
    let lastYield = now();
    for (let epoch = firstEpoch; epoch <= spec.epochs && status === 'running'; epoch++) {
      const epochStart = now();
      const order = permutation(train.n, shuffleRng);
      let acc = tf.scalar(0);
      let seen = 0;
      for (let b = 0; b < steps; b++) {
        if (signal?.aborted) {
          status = 'cancelled';
          break;
        }
        const data = makeBatch(train, exampleSize, spec.batchSize, b, order);
        const next = tf.tidy(() => {
          const x = tf.tensor(data.x, inputBatchShape(model.plan, data.size));
          const target = makeTarget(data.labels, data.targets, model.plan.outputs);
          return trainStep(model, optimizer, spec.loss, x, target, acc);
        });
        acc.dispose();
        acc = next;
        seen += data.size;
        if ((b + 1) % readEvery === 0 && b + 1 < steps) {
          const loss = (await readScalar(acc)) / seen;
          emit({ kind: 'step', epoch, step: b + 1, stepsPerEpoch: steps, loss });
          if (!Number.isFinite(loss)) {
            status = 'diverged';
            divergedAtEpoch = epoch;
            break;
          }
        }
        if (now() - lastYield > 25) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      let trainSum: number;
      try {
        trainSum = await readScalar(acc);
      } finally {
        acc.dispose();
      }
      if (status === 'cancelled') break;
      const trainMs = now() - epochStart;
      const trainLoss = trainSum / Math.max(seen, 1);
      if (status === 'diverged' || !Number.isFinite(trainLoss)) {
        status = 'diverged';
        divergedAtEpoch = epoch;
        break;
      }
      const ev = await evaluate(model, spec, test, exampleSize);
      if (!Number.isFinite(ev.loss)) {
        status = 'diverged';
        divergedAtEpoch = epoch;
        break;
      }
      const record: EpochRecord = {
        epoch,
        trainLoss,
        testLoss: ev.loss,
        testAccuracy: ev.accuracy,
        examplesPerSec: seen / (trainMs / 1000),
        durationMs: now() - epochStart,
      };
      epochs.push(record);
      emit({ kind: 'epoch', record });
      if (ev.accuracy > best.accuracy) {
        best = { accuracy: ev.accuracy, epoch };
        if (keepBest) {
          disposeSnapshot(bestSnapshot);
          bestSnapshot = takeSnapshot(model, epoch, ev.accuracy);
        }
      }
      if (wantBestAt.has(epoch) && bestSnapshot) await save(`best@${epoch}`, bestSnapshot.epoch, bestSnapshot.testAccuracy, bestSnapshot.tensors);
      await measureAt(epoch);
      if (opts.resumeEveryMs !== undefined && epoch < spec.epochs && now() - lastResumePoint >= opts.resumeEveryMs) {
        await writeResumePoint(epoch);
        lastResumePoint = now();
      }
    }
    if (status === 'running') status = 'succeeded';
    if (status !== 'cancelled') {
      if (spec.checkpoints?.best && bestSnapshot) await save('best', bestSnapshot.epoch, bestSnapshot.testAccuracy, bestSnapshot.tensors);
      if (spec.checkpoints?.final && status === 'succeeded') {
        const last = epochs[epochs.length - 1];
        await save('final', last.epoch, last.testAccuracy, checkpointTensors(model));
      }
    }
  } finally {
    disposeSnapshot(bestSnapshot);
    optimizer.dispose();
  }
  const last = epochs[epochs.length - 1];
  return {
    status,
    backend: opts.backend,
    ...(opts.backendNote ? { backendNote: opts.backendNote } : {}),
    ...(opts.adapter ? { adapter: opts.adapter } : {}),
    bestTestAccuracy: Math.max(best.accuracy, 0),
    bestEpoch: best.epoch,
    finalTestAccuracy: last?.testAccuracy ?? 0,
    epochs,
    ...(divergedAtEpoch !== undefined ? { divergedAtEpoch } : {}),
    checkpoints,
    ...(opts.measure ? { npk, ntkSplit } : {}),
    wallMs: earlierWallMs + now() - start,
    ...(resume ? { resumedFromEpoch: resume.meta.epoch } : {}),
  };
}
