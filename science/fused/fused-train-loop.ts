/**
 * The epoch loop of K fused trials: every member keeps what an unfused trial keeps (its seeded
 * shuffles, loss read-backs every `readEvery` steps, test evaluation, best-so-far, checkpoints,
 * progress events, divergence and cancellation), while the steps and the test evaluation run
 * once for the whole stack. A member that diverges or is cancelled leaves the stack at once
 * (its result is final); the others go on.
 *
 * Each member's status moves running -> succeeded | diverged | cancelled, once, as in
 * science/train/train-loop.ts, and at the same points of its run, so its TrialResult means
 * exactly what its unfused result would.
 *
 * Every read-back is asynchronous (`data()`, never `dataSync()`): a GPU backend (webgpu) has no
 * synchronous read in Node.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdapterInfo, CheckpointInfo, EpochRecord, TrialProgress, TrialResult, TrialSpec, TrialStatus } from '../types.js';
import type { Dataset } from '../datasets/dataset.js';
import { permutation, type Rng } from '../models/prng.js';
import { planRegime } from '../regimes.js';
import { trialRng } from '../train/trial-streams.js';
import { batchCount, makeBatch, type BatchSource } from '../train/batches.js';
import { makeTarget } from '../train/loss.js';
import { checkpointTensors, type NamedTensor } from '../checkpoint/model-checkpoint.js';
import { writeCheckpoint } from '../checkpoint/checkpoint-io.js';
import type { CheckpointHeader } from '../checkpoint/format.js';
import { makeStackedBatch } from './stacked-batch.js';
import type { StackedModel } from './stacked-model.js';
import type { StackedOptimizer } from './stacked-optimizer.js';
import { fusedTrainStep, stackedLoss } from './fused-step.js';
import { computeGateBits, gateCacheFits, gateLayout, gateTensors } from './gate-cache.js';

/** One member of the stack: its resolved spec and its own run options. */
export interface FusedMemberRun {
  spec: TrialSpec;
  checkpointDir: string;
  signal?: AbortSignal;
  onProgress?: (event: TrialProgress) => void;
}

export interface FusedTrainLoopOptions {
  /** In stack order (member i is slice i of the model's variables). */
  members: FusedMemberRun[];
  model: StackedModel;
  optimizer: StackedOptimizer;
  dataset: Dataset;
  backend: string;
  backendNote?: string;
  /** The GPU adapter in use, recorded in each member's result (backend 'webgpu'). */
  adapter?: AdapterInfo;
  /**
   * Compute frozen hard gates once per example (gate-cache.ts) instead of once per step. Only
   * where the backend's products do not depend on the batch size (wasm, cpu). Default false.
   */
  cacheGates?: boolean;
  /** Steps between loss read-backs. Default 100. */
  readEvery?: number;
  /** Clock, ms. Default performance.now. */
  now?: () => number;
  /** Called with each member's result as soon as it is final (before the others finish). */
  onResult?: (index: number, result: TrialResult) => void;
}

/** Copies of a member's checkpoint tensors, kept across epochs. */
type Snapshot = { epoch: number; testAccuracy: number; tensors: NamedTensor[] };

function disposeSnapshot(s: Snapshot | undefined): void {
  for (const t of s?.tensors ?? []) t.tensor.dispose();
}

/** Member i's checkpoint tensors as fresh tensors (the caller disposes them). */
function memberTensors(model: StackedModel, i: number): NamedTensor[] {
  const names: string[] = [];
  const tensors = tf.tidy(() => {
    const named = checkpointTensors(model.memberParts(i));
    names.push(...named.map((t) => t.name));
    return named.map((t) => t.tensor);
  });
  return tensors.map((tensor, j) => ({ name: names[j], tensor }));
}

/** Per-member bookkeeping: what trainLoop keeps in its locals for one trial. */
class Member {
  status: TrialStatus | 'running' = 'running';
  divergedAtEpoch: number | undefined;
  readonly epochs: EpochRecord[] = [];
  readonly checkpoints: CheckpointInfo[] = [];
  best = { accuracy: -1, epoch: 0 };
  bestSnapshot: Snapshot | undefined;
  readonly shuffleRng: Rng;
  readonly wantBestAt: Set<number>;
  readonly keepBest: boolean;
  /** This member's frozen gates as bits (gate-cache.ts), when cached. */
  trainGates: Uint8Array | undefined;
  testGates: Uint8Array | undefined;
  constructor(
    readonly index: number,
    readonly run: FusedMemberRun,
  ) {
    // The member's own minibatch order: FLNPF and stage k scope it by their identity, as unfused.
    this.shuffleRng = trialRng(run.spec.seed, 'shuffle', planRegime(run.spec.regime, run.spec.stage, run.spec.stageEvery));
    this.wantBestAt = new Set(run.spec.checkpoints?.bestAtEpochs ?? []);
    this.keepBest = Boolean(run.spec.checkpoints?.best) || this.wantBestAt.size > 0;
  }
  emit(e: TrialProgress): void {
    this.run.onProgress?.(e);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Train the members together; results in member order. */
export async function fusedTrainLoop(opts: FusedTrainLoopOptions): Promise<TrialResult[]> {
  const { model, optimizer, dataset } = opts;
  const now = opts.now ?? (() => performance.now());
  const readEvery = opts.readEvery ?? 100;
  const start = now();
  const shared = opts.members[0].spec;
  const exampleSize = dataset.inputShape.reduce((a, b) => a * b, 1);
  const train: BatchSource = dataset.train;
  const test: BatchSource = dataset.test;
  const steps = batchCount(train.n, shared.batchSize);
  const outputs = model.plan.outputs;

  const all = opts.members.map((run, i) => new Member(i, run));
  /** Members still in the stack, in stack order (active[j] is slice j). */
  let active = [...all];
  const results: TrialResult[] = new Array<TrialResult>(all.length);

  const save = async (m: Member, name: string, epoch: number, testAccuracy: number, tensors: NamedTensor[]): Promise<void> => {
    const header: CheckpointHeader = {
      format: 'npf-checkpoint',
      version: 1,
      arch: m.run.spec.arch,
      inputShape: dataset.inputShape,
      outputs,
      regime: m.run.spec.regime,
      name,
      epoch,
      testAccuracy,
      seed: m.run.spec.seed,
      tensors: tensors.map((t) => ({ name: t.name, shape: t.tensor.shape })),
    };
    const data = await Promise.all(tensors.map(async (t) => (await t.tensor.data()) as Float32Array));
    const ref = await writeCheckpoint(m.run.checkpointDir, { header, data });
    const info: CheckpointInfo = { name, path: ref.path, sha256: ref.sha256, epoch, testAccuracy };
    m.checkpoints.push(info);
    m.emit({ kind: 'checkpoint', checkpoint: info });
  };

  /** The end of a member's run, as trainLoop ends one (final 'best' / 'final' checkpoints, result). */
  const finish = async (m: Member): Promise<void> => {
    if (m.status === 'running') m.status = 'succeeded';
    const spec = m.run.spec;
    try {
      if (m.status !== 'cancelled') {
        if (spec.checkpoints?.best && m.bestSnapshot) await save(m, 'best', m.bestSnapshot.epoch, m.bestSnapshot.testAccuracy, m.bestSnapshot.tensors);
        if (spec.checkpoints?.final && m.status === 'succeeded') {
          const last = m.epochs[m.epochs.length - 1];
          const tensors = memberTensors(model, active.indexOf(m));
          try {
            await save(m, 'final', last.epoch, last.testAccuracy, tensors);
          } finally {
            for (const t of tensors) t.tensor.dispose();
          }
        }
      }
    } finally {
      disposeSnapshot(m.bestSnapshot);
      m.bestSnapshot = undefined;
    }
    const last = m.epochs[m.epochs.length - 1];
    results[m.index] = {
      status: m.status as TrialStatus,
      backend: opts.backend,
      ...(opts.backendNote ? { backendNote: opts.backendNote } : {}),
      ...(opts.adapter ? { adapter: opts.adapter } : {}),
      bestTestAccuracy: Math.max(m.best.accuracy, 0),
      bestEpoch: m.best.epoch,
      finalTestAccuracy: last?.testAccuracy ?? 0,
      epochs: m.epochs,
      ...(m.divergedAtEpoch !== undefined ? { divergedAtEpoch: m.divergedAtEpoch } : {}),
      checkpoints: m.checkpoints,
      wallMs: now() - start,
    };
    opts.onResult?.(m.index, results[m.index]);
  };

  /** Finish the members that stopped and take them out of the stack (and of `perMember`). */
  const dropStopped = async (perMember: { acc?: tf.Tensor; orders?: Int32Array[] }): Promise<void> => {
    const stopped = active.filter((m) => m.status !== 'running');
    if (stopped.length === 0) return;
    for (const m of stopped) await finish(m);
    const keepIdx = active.flatMap((m, j) => (m.status === 'running' ? [j] : []));
    active = keepIdx.map((j) => active[j]);
    if (perMember.orders) perMember.orders = keepIdx.map((j) => (perMember.orders as Int32Array[])[j]);
    if (perMember.acc) {
      const old = perMember.acc;
      perMember.acc = keepIdx.length ? tf.tidy(() => tf.gather(old, tf.tensor1d(keepIdx, 'int32'))) : undefined;
      old.dispose();
    }
    if (keepIdx.length) {
      model.keep(keepIdx);
      optimizer.keep(keepIdx);
    }
  };

  /** Test loss and accuracy of every member in the stack: one shared batch, read once. */
  const evaluate = async (): Promise<{ loss: number[]; accuracy: number[] }> => {
    const batch = 1000;
    let lossSum = tf.zeros([active.length]);
    let correct = tf.zeros([active.length]);
    for (let b = 0; b < batchCount(test.n, batch); b++) {
      const data = makeBatch(test, exampleSize, batch, b);
      const [l, c] = tf.tidy(() => {
        const x = tf.tensor2d(data.x, [data.size, exampleSize]);
        const target = makeTarget(data.labels, data.targets, outputs);
        const first = b * batch;
        const gates = cached ? gateTensors(layout, active.map((m) => m.testGates as Uint8Array), data.size, (_, i) => first + i) : undefined;
        const logits = model.logits(x, gates);
        const hit =
          outputs === 1
            ? tf.sum(tf.cast(tf.equal(tf.greater(logits, 0), tf.greater(target, 0)), 'float32'), [1, 2])
            : tf.sum(tf.cast(tf.equal(tf.argMax(logits, 2), tf.argMax(target, 1)), 'float32'), 1);
        return [tf.add(lossSum, tf.mul(stackedLoss(shared.loss, logits, target), data.size)), tf.add(correct, hit)];
      });
      lossSum.dispose();
      correct.dispose();
      lossSum = l;
      correct = c;
    }
    let ls: Float32Array;
    let cs: Float32Array;
    try {
      [ls, cs] = (await Promise.all([lossSum.data(), correct.data()])) as Float32Array[];
    } finally {
      lossSum.dispose();
      correct.dispose();
    }
    // Divide in double precision, as trainLoop does (a Float32Array.map would round the quotient).
    return { loss: Array.from(ls, (v) => v / test.n), accuracy: Array.from(cs, (v) => v / test.n) };
  };

  const layout = gateLayout(model.gateWidths);
  const cached = Boolean(opts.cacheGates) && model.hasFrozenGates && gateCacheFits(layout, all.length, train.n + test.n);
  for (const m of all) m.emit({ kind: 'started', backend: opts.backend, backendNote: opts.backendNote, ...(opts.adapter ? { adapter: opts.adapter } : {}), trainExamples: train.n, testExamples: test.n, stepsPerEpoch: steps });
  if (cached) {
    // Once for the run: every member's gates of every training and test example.
    const trainBits = await computeGateBits(model, layout, train, exampleSize);
    const testBits = await computeGateBits(model, layout, test, exampleSize);
    all.forEach((m, j) => {
      m.trainGates = trainBits[j];
      m.testGates = testBits[j];
    });
  }
  try {
    let lastYield = now();
    for (let epoch = 1; epoch <= shared.epochs && active.length > 0; epoch++) {
      const epochStart = now();
      const state: { acc?: tf.Tensor; orders?: Int32Array[] } = {
        orders: active.map((m) => permutation(train.n, m.shuffleRng)),
        acc: tf.zeros([active.length]),
      };
      let seen = 0;
      for (let b = 0; b < steps && active.length > 0; b++) {
        for (const m of active) if (m.run.signal?.aborted) m.status = 'cancelled';
        await dropStopped(state);
        if (active.length === 0) break;
        const k = active.length;
        const data = makeStackedBatch(train, exampleSize, shared.batchSize, b, state.orders as Int32Array[]);
        const acc = state.acc as tf.Tensor;
        const next = tf.tidy(() => {
          const x = tf.tensor3d(data.x, [k, data.size, exampleSize]);
          const target = tf.reshape(makeTarget(data.labels, data.targets, outputs), [k, data.size, outputs]);
          const start = b * shared.batchSize;
          const orders = state.orders as Int32Array[];
          const gates = cached ? gateTensors(layout, active.map((m) => m.trainGates as Uint8Array), data.size, (j, i) => orders[j][start + i]) : undefined;
          return fusedTrainStep(model, optimizer, shared.loss, x, target, acc, gates);
        });
        acc.dispose();
        state.acc = next;
        seen += data.size;
        if ((b + 1) % readEvery === 0 && b + 1 < steps) {
          const sums = await next.data();
          active.forEach((m, j) => {
            const loss = sums[j] / seen;
            m.emit({ kind: 'step', epoch, step: b + 1, stepsPerEpoch: steps, loss });
            if (!Number.isFinite(loss)) {
              m.status = 'diverged';
              m.divergedAtEpoch = epoch;
            }
          });
          await dropStopped(state);
        }
        if (now() - lastYield > 25) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      const sums = state.acc ? await state.acc.data() : new Float32Array(0);
      state.acc?.dispose();
      state.acc = undefined;
      const trainMs = now() - epochStart;
      active.forEach((m, j) => {
        if (m.status !== 'running') return;
        if (!Number.isFinite(sums[j] / Math.max(seen, 1))) {
          m.status = 'diverged';
          m.divergedAtEpoch = epoch;
        }
      });
      await dropStopped(state);
      if (active.length === 0) break;
      const ev = await evaluate();
      const durationMs = now() - epochStart;
      const evaluated = [...active];
      for (const [j, m] of evaluated.entries()) {
        if (!Number.isFinite(ev.loss[j])) {
          m.status = 'diverged';
          m.divergedAtEpoch = epoch;
          continue;
        }
        const record: EpochRecord = {
          epoch,
          trainLoss: sums[j] / Math.max(seen, 1),
          testLoss: ev.loss[j],
          testAccuracy: ev.accuracy[j],
          examplesPerSec: seen / (trainMs / 1000),
          durationMs,
        };
        m.epochs.push(record);
        m.emit({ kind: 'epoch', record });
        if (ev.accuracy[j] > m.best.accuracy) {
          m.best = { accuracy: ev.accuracy[j], epoch };
          if (m.keepBest) {
            disposeSnapshot(m.bestSnapshot);
            m.bestSnapshot = { epoch, testAccuracy: ev.accuracy[j], tensors: memberTensors(model, j) };
          }
        }
        if (m.wantBestAt.has(epoch) && m.bestSnapshot) await save(m, `best@${epoch}`, m.bestSnapshot.epoch, m.bestSnapshot.testAccuracy, m.bestSnapshot.tensors);
      }
      await dropStopped(state);
    }
    for (const m of [...active]) await finish(m);
    active = [];
  } finally {
    for (const m of all) disposeSnapshot(m.bestSnapshot);
  }
  return results;
}
