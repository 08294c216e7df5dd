/**
 * TEST DOUBLE for `runTrial`, selected ONLY by trial-child.ts when the environment variable
 * NPF_TRIAL_RUNNER names it. It learns nothing: it sleeps per epoch and emits a deterministic
 * accuracy curve, so scheduling, leases, retries and artifacts can be tested in seconds.
 *
 * - NPF_TRIAL_RUNNER=fake-sleep: NPF_FAKE_EPOCH_MS (default 200) per epoch; writes every
 *   requested checkpoint (small JSON files), and like the real core refuses missing or unexpected
 *   gates (checkGates) and verifies the gates' sha256; writes resume states (small JSON files,
 *   RunTrialOptions.resumeEveryMs) and continues from one (RunTrialOptions.resume) like runTrial.
 * - NPF_TRIAL_RUNNER=fake-crash: writes a line to stderr and exits with code 3 (a crashed trial).
 * - NPF_FAKE_FAIL_REGIME=<regime> (with fake-sleep): trials of that regime throw a deterministic
 *   InvalidInputError after their first epoch (a trial that fails for good).
 * The result's backend is 'fake', or 'fake@gpu<i>' when the trial was placed on GPU index i >= 0.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError, NpfError } from '../common/errors.js';
import { resumeIdentity } from '../science/checkpoint/resume-state.js';
import { checkGates } from '../science/trial-spec.js';
import type { CheckpointInfo, EpochRecord, RunTrialOptions, TrialResult, TrialSpec } from '../science/types.js';

export type FakeRunnerName = 'fake-sleep' | 'fake-crash';

export function isFakeRunnerName(name: string): name is FakeRunnerName {
  return name === 'fake-sleep' || name === 'fake-crash';
}

/** Deterministic accuracy of the fake curve: rises with epochs; differs per regime and seed. */
export function fakeAccuracy(spec: TrialSpec, epoch: number): number {
  const base = { relu: 0.9, 'frnpf-ii': 0.8, 'frnpf-di': 0.8, dnpfl: 0.88, flnpf: 0.91, stage: 0.85 }[spec.regime];
  const curve = base - 0.3 * Math.exp(-epoch / 2);
  return Math.round((curve + ((spec.seed % 7) - 3) * 0.001 + (spec.stage ?? 0) * 0.005) * 10_000) / 10_000;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

async function writeCheckpoint(dir: string, name: string, spec: TrialSpec, epoch: number, acc: number): Promise<CheckpointInfo> {
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.from(JSON.stringify({ fake: true, regime: spec.regime, seed: spec.seed, epoch }));
  const path = join(dir, `${name.replace('@', '-at-')}.json`);
  await writeFile(path, bytes);
  return { name, path, sha256: createHash('sha256').update(bytes).digest('hex'), epoch, testAccuracy: acc };
}

export async function runFakeTrial(runner: FakeRunnerName, spec: TrialSpec, opts: RunTrialOptions = {}): Promise<TrialResult> {
  if (runner === 'fake-crash') {
    process.stderr.write('fake-crash: simulated trial crash\n');
    process.exit(3);
  }
  const { gates } = opts;
  checkGates(spec, gates);
  if (gates) {
    const bytes = await readFile(gates.path);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== gates.sha256) throw new NpfError('CHECKPOINT_MISMATCH', `gates ${gates.path} hashes to ${actual}, not ${gates.sha256}`);
  }
  const epochMs = Number(process.env.NPF_FAKE_EPOCH_MS ?? 200);
  const backend = opts.gpuIndex !== undefined && opts.gpuIndex >= 0 ? `fake@gpu${opts.gpuIndex}` : 'fake';
  const started = Date.now();
  const dir = opts.checkpointDir ?? join(process.cwd(), 'fake-checkpoints');
  opts.onProgress?.({ kind: 'started', backend, trainExamples: 100, testExamples: 100, stepsPerEpoch: 1 });
  const epochs: EpochRecord[] = [];
  const checkpoints: CheckpointInfo[] = [];
  let best = { acc: -1, epoch: 0 };
  const record = (epoch: number): EpochRecord => {
    const acc = fakeAccuracy(spec, epoch);
    return { epoch, trainLoss: 1 - acc, testLoss: 1 - acc, testAccuracy: acc, examplesPerSec: 100_000 / Math.max(1, epochMs), durationMs: epochMs };
  };
  // Resume like runTrial: a fake resume state (JSON) of the same trial, verified by its hash;
  // the finished epochs' records are the curve's own (deterministic).
  let from = 0;
  if (opts.resume) {
    const bytes = await readFile(opts.resume.path);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== opts.resume.sha256) throw new NpfError('CHECKPOINT_CORRUPT', `resume state ${opts.resume.path} hashes to ${actual}, not ${opts.resume.sha256}`);
    const state = JSON.parse(bytes.toString('utf8')) as { trial: string; epoch: number };
    if (state.trial !== resumeIdentity(spec)) throw new NpfError('CHECKPOINT_MISMATCH', `resume state ${opts.resume.path} is the resume state of another trial`);
    from = state.epoch;
    for (let e = 1; e <= from; e++) {
      epochs.push(record(e));
      if (epochs[e - 1].testAccuracy > best.acc) best = { acc: epochs[e - 1].testAccuracy, epoch: e };
    }
    opts.onProgress?.({ kind: 'resumed', fromEpoch: from });
  }
  let lastPoint = started;
  for (let epoch = from + 1; epoch <= spec.epochs; epoch++) {
    await sleep(epochMs, opts.signal);
    if (opts.signal?.aborted) break;
    const rec = record(epoch);
    const acc = rec.testAccuracy;
    epochs.push(rec);
    if (acc > best.acc) best = { acc, epoch };
    opts.onProgress?.({ kind: 'epoch', record: rec });
    if (process.env.NPF_FAKE_FAIL_REGIME === spec.regime) throw new InvalidInputError(`fake-sleep: regime ${spec.regime} fails on purpose (NPF_FAKE_FAIL_REGIME)`);
    if (spec.checkpoints?.bestAtEpochs?.includes(epoch)) {
      const cp = await writeCheckpoint(dir, `best@${epoch}`, spec, best.epoch, best.acc);
      checkpoints.push(cp);
      opts.onProgress?.({ kind: 'checkpoint', checkpoint: cp });
    }
    if (opts.resumeEveryMs !== undefined && epoch < spec.epochs && Date.now() - lastPoint >= opts.resumeEveryMs) {
      await mkdir(dir, { recursive: true });
      const bytes = Buffer.from(JSON.stringify({ fake: true, trial: resumeIdentity(spec), epoch }));
      const path = join(dir, 'resume.json');
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
      opts.onProgress?.({ kind: 'resume-point', checkpoint: { name: 'resume', path, sha256: createHash('sha256').update(bytes).digest('hex'), epoch, testAccuracy: acc } });
      lastPoint = Date.now();
    }
  }
  const resumed = from > 0 ? { resumedFromEpoch: from } : {};
  if (opts.signal?.aborted) {
    return { status: 'cancelled', backend, bestTestAccuracy: Math.max(0, best.acc), bestEpoch: best.epoch, finalTestAccuracy: epochs.at(-1)?.testAccuracy ?? 0, epochs, checkpoints, wallMs: Date.now() - started, ...resumed };
  }
  if (spec.checkpoints?.best) checkpoints.push(await writeCheckpoint(dir, 'best', spec, best.epoch, best.acc));
  if (spec.checkpoints?.final) checkpoints.push(await writeCheckpoint(dir, 'final', spec, spec.epochs, epochs.at(-1)?.testAccuracy ?? 0));
  return {
    status: 'succeeded',
    backend,
    bestTestAccuracy: best.acc,
    bestEpoch: best.epoch,
    finalTestAccuracy: epochs.at(-1)?.testAccuracy ?? 0,
    epochs,
    checkpoints,
    wallMs: Date.now() - started,
    ...resumed,
  };
}
