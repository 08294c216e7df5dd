/**
 * `npf train`: run one trial from flags or a YAML trial spec (flags override the file), with
 * progress on stderr and the TrialResult as one JSON line on stdout.
 *
 * Exit codes: 0 succeeded, 1 diverged, 130 cancelled (Ctrl-C), 2 bad input.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { InvalidInputError, NpfError, describeError } from '../../common/errors.js';
import { BACKENDS } from '../../science/backend/backend-choice.js';
import { DATASETS } from '../../science/datasets/registry.js';
import { ARCH_KINDS } from '../../science/models/architecture.js';
import { OPTIMIZERS, defaultLr, type OptimizerName } from '../../science/optimizers.js';
import { REGIMES, parentCheckpoint } from '../../science/regimes.js';
import { INITS, LOSSES, checkGates, resolveTrialSpec } from '../../science/trial-spec.js';
import type { CheckpointRef, EpochRecord, TrialProgress, TrialResult, TrialSpec } from '../../science/types.js';
import { defineCommand, parseCommandArgs, printUsage, UsageError, type FlagValues } from '../args.js';
import { locateTrialIssues, readTrialSpecFile, trialSpecError } from '../trial-spec-file.js';

export const USAGE = `usage: npf train [--spec trial.yaml] [options]   (flags override the spec file)

  --dataset NAME          ${DATASETS.join(' | ')} (default mnist)
  --dataset-dir DIR       where the dataset files are (cifar10/cifar100; optional otherwise)
  --train-subset N        train on the first N examples
  --train-per-class N     train on the first N examples of each class
  --test-subset N         test on the first N examples
  --arch A                ${ARCH_KINDS.join(' | ')} (default fc)
  --width N --depth N     FC width and number of hidden layers (default 128, 5)
  --regime R              ${REGIMES.join(' | ')} (default relu)
  --stage K               stage number for --regime stage (0 = frnpf-ii; k >= 1 needs --gates-from)
  --stage-every N         --regime stage: stage k takes the ReLU run's best@<k*N> checkpoint
                          (default 10, the paper's)
  --gates-from PATH       ReLU checkpoint whose hidden layers gate flnpf / stage k >= 1
  --gates-sha256 HEX      expected SHA-256 of --gates-from (default: the file's current hash)
  --optimizer O           ${OPTIMIZERS.join(' | ')} (default adam)
  --lr X                  step size (default: ${OPTIMIZERS.map((o) => `${o} ${defaultLr(o).toExponential()}`).join(', ')})
  --epochs N              (default 1)
  --batch-size N          (default 32)
  --seed N                (default 0)
  --backend B             ${BACKENDS.join(' | ')} (default auto)
  --loss L                ${LOSSES.join(' | ')} (default: squared for binary-mnist)
  --init I                ${INITS.join(' | ')} (default ${INITS[0]})
  --beta X --eps X        soft-gate sharpness and lift (default 4, 0.1)
  --checkpoints LIST      checkpoints to write: best,final,best@10,...
  --checkpoint-every N    also write best@N, best@2N, ... up to --epochs: the gates of
                          --regime stage --stage-every N (e.g. a ReLU run for stages 1, 2, ...)
  --checkpoint-dir DIR    where checkpoints go (default: a fresh temp dir)
  -h, --help

A trial spec file is YAML with the fields of a TrialSpec: docs/trial-spec.md describes them
and docs/trial-spec.schema.json is its JSON schema.`;

const SPEC = defineCommand({
  command: 'train',
  usage: USAGE,
  flags: {
    spec: { kind: 'string' },
    dataset: { kind: 'string', choices: DATASETS },
    'dataset-dir': { kind: 'string' },
    'train-subset': { kind: 'int' },
    'train-per-class': { kind: 'int' },
    'test-subset': { kind: 'int' },
    arch: { kind: 'string', choices: ARCH_KINDS },
    width: { kind: 'int' },
    depth: { kind: 'int' },
    regime: { kind: 'string', choices: REGIMES },
    stage: { kind: 'int' },
    'stage-every': { kind: 'int', min: 1 },
    'gates-from': { kind: 'string' },
    'gates-sha256': { kind: 'string' },
    optimizer: { kind: 'string', choices: OPTIMIZERS },
    lr: { kind: 'number' },
    epochs: { kind: 'int' },
    'batch-size': { kind: 'int' },
    seed: { kind: 'int' },
    backend: { kind: 'string', choices: BACKENDS },
    loss: { kind: 'string', choices: LOSSES },
    init: { kind: 'string', choices: INITS },
    beta: { kind: 'number' },
    eps: { kind: 'number' },
    checkpoints: { kind: 'string' },
    'checkpoint-every': { kind: 'int', min: 1 },
    'checkpoint-dir': { kind: 'string' },
  },
});

/** The flags given, typed (value ranges and names are checked with the whole spec, by resolveTrialSpec). */
export type ParsedFlags = FlagValues<typeof SPEC.flags>;

/** Parse argv into typed flag values; bad flags or values throw one UsageError listing them all. */
export function parseTrainFlags(argv: string[]): ParsedFlags {
  return parseCommandArgs(SPEC, argv).values;
}

/** 'best,final,best@10,best@20' -> CheckpointRequest. */
export function parseCheckpointList(list: string): NonNullable<TrialSpec['checkpoints']> {
  const req: NonNullable<TrialSpec['checkpoints']> = {};
  for (const item of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (item === 'best') req.best = true;
    else if (item === 'final') req.final = true;
    else if (/^best@\d+$/.test(item) && Number(item.slice(5)) > 0) (req.bestAtEpochs ??= []).push(Number(item.slice(5)));
    else throw new InvalidInputError(`train: --checkpoints: '${item}' is not best, final or best@<epoch>`, { flag: 'checkpoints', value: item });
  }
  return req;
}

/** `checkpoints` plus best@every, best@2*every, ... up to `epochs` (no duplicates, in order). */
export function withCheckpointEvery(checkpoints: Record<string, unknown>, every: number, epochs: number): NonNullable<TrialSpec['checkpoints']> {
  const given = Array.isArray(checkpoints.bestAtEpochs) ? (checkpoints.bestAtEpochs as number[]) : [];
  const at = new Set(given);
  for (let e = every; e <= epochs; e += every) at.add(e);
  return { ...checkpoints, bestAtEpochs: [...at].sort((a, b) => a - b) } as NonNullable<TrialSpec['checkpoints']>;
}

function sha256File(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (err) {
    throw new InvalidInputError(`--gates-from ${path}: cannot read the checkpoint (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { file: path });
  }
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {});

/**
 * The trial spec from flags over an optional YAML spec, validated by resolveTrialSpec. Every
 * problem is listed, each naming the flag that set the field, or the file's line:column
 * ("trial.yaml:4:9: epochs: expected number, got string "zero"").
 */
export function specFromFlags(f: ParsedFlags): TrialSpec {
  const file = typeof f.spec === 'string' ? readTrialSpecFile(f.spec) : undefined;
  const s: Record<string, unknown> = { ...(file?.value ?? {}) };
  /** Field path -> the flag that set it. */
  const setBy = new Map<string, string>();
  const by = (flag: keyof ParsedFlags, ...paths: string[]) => {
    if (f[flag] !== undefined) for (const p of paths) setBy.set(p, `--${String(flag)}`);
  };
  by('dataset', 'dataset.name');
  by('dataset-dir', 'dataset.dir');
  by('train-subset', 'dataset.trainSubset');
  by('train-per-class', 'dataset.trainSubset');
  by('test-subset', 'dataset.testSubset');
  by('arch', 'arch');
  by('width', 'arch.width');
  by('depth', 'arch.depth');
  by('regime', 'regime');
  by('stage', 'stage');
  by('stage-every', 'stageEvery');
  by('optimizer', 'optimizer.name');
  by('lr', 'optimizer.lr');
  by('epochs', 'epochs');
  by('batch-size', 'batchSize');
  by('seed', 'seed');
  by('backend', 'backend');
  by('loss', 'loss');
  by('init', 'init');
  by('beta', 'gate.beta');
  by('eps', 'gate.eps');
  by('checkpoints', 'checkpoints');
  by('checkpoint-every', 'checkpoints.bestAtEpochs');
  const dataset = obj(s.dataset);
  if (f.dataset !== undefined) dataset.name = f.dataset;
  if (dataset.name === undefined) dataset.name = 'mnist';
  if (f['dataset-dir'] !== undefined) dataset.dir = f['dataset-dir'];
  if (f['train-subset'] !== undefined && f['train-per-class'] !== undefined) throw new InvalidInputError('train: give --train-subset or --train-per-class, not both');
  if (f['train-subset'] !== undefined) dataset.trainSubset = { first: f['train-subset'] };
  if (f['train-per-class'] !== undefined) dataset.trainSubset = { perClass: f['train-per-class'] };
  if (f['test-subset'] !== undefined) dataset.testSubset = { first: f['test-subset'] };
  s.dataset = dataset;

  let arch = obj(s.arch);
  if (f.arch !== undefined && f.arch !== arch.kind) arch = { kind: f.arch };
  if (arch.kind === undefined) arch.kind = 'fc';
  if (f.width !== undefined) arch.width = f.width;
  if (f.depth !== undefined) arch.depth = f.depth;
  if (arch.kind !== 'fc' && (f.width !== undefined || f.depth !== undefined)) throw new InvalidInputError(`train: --width/--depth apply to --arch fc, not ${String(arch.kind)}`);
  s.arch = arch;

  if (f.regime !== undefined) s.regime = f.regime;
  if (s.regime === undefined) s.regime = 'relu';
  if (f.stage !== undefined) s.stage = f.stage;
  if (f['stage-every'] !== undefined) s.stageEvery = f['stage-every'];
  const optimizer = obj(s.optimizer);
  if (f.optimizer !== undefined) optimizer.name = f.optimizer;
  if (optimizer.name === undefined) optimizer.name = 'adam';
  if (f.lr !== undefined) optimizer.lr = f.lr;
  if (optimizer.lr === undefined && (OPTIMIZERS as readonly unknown[]).includes(optimizer.name)) optimizer.lr = defaultLr(optimizer.name as OptimizerName);
  s.optimizer = optimizer;
  if (f.epochs !== undefined) s.epochs = f.epochs;
  if (s.epochs === undefined) s.epochs = 1;
  if (f['batch-size'] !== undefined) s.batchSize = f['batch-size'];
  if (f.seed !== undefined) s.seed = f.seed;
  if (s.seed === undefined) s.seed = 0;
  if (f.backend !== undefined) s.backend = f.backend;
  if (f.loss !== undefined) s.loss = f.loss;
  if (f.init !== undefined) s.init = f.init;
  if (f.beta !== undefined || f.eps !== undefined) {
    const gate = obj(s.gate);
    if (f.beta !== undefined) gate.beta = f.beta;
    if (f.eps !== undefined) gate.eps = f.eps;
    s.gate = gate;
  }
  if (typeof f.checkpoints === 'string') s.checkpoints = parseCheckpointList(f.checkpoints);
  if (f['checkpoint-every'] !== undefined) {
    const every = f['checkpoint-every'];
    const epochs = Number(s.epochs);
    if (every > epochs) throw new InvalidInputError(`train: --checkpoint-every ${every} is more than --epochs ${epochs}: no checkpoint would be written`, { flag: 'checkpoint-every' });
    s.checkpoints = withCheckpointEvery(obj(s.checkpoints), every, epochs);
  }
  try {
    return resolveTrialSpec(s, file?.file ?? 'command line');
  } catch (err) {
    const issues = err instanceof InvalidInputError ? (err.context.issues as z.ZodIssue[] | undefined) : undefined;
    if (!issues) throw err;
    const flagOf = (path: string) => [...setBy.keys()].filter((k) => path === k || path.startsWith(`${k}.`) || path.startsWith(`${k}[`)).sort((a, b) => b.length - a.length).map((k) => setBy.get(k))[0];
    throw trialSpecError(locateTrialIssues(issues, s, file, flagOf));
  }
}

/**
 * The gates of an flnpf / stage k >= 1 trial, from --gates-from (and --gates-sha256, default the
 * file's current hash): passed to runTrial beside the spec, refused for a regime that takes none.
 */
export function gatesFromFlags(f: ParsedFlags, spec: TrialSpec): CheckpointRef | undefined {
  if (f['gates-sha256'] !== undefined && typeof f['gates-from'] !== 'string') throw new InvalidInputError('train: --gates-sha256 needs --gates-from');
  const path = f['gates-from'];
  const from = parentCheckpoint(spec.regime, spec.stage, spec.stageEvery);
  // Refused before the file is read: the regime, not the file, is what is wrong.
  if (!from && typeof path === 'string') {
    const what = spec.stage !== undefined ? `--regime stage --stage ${spec.stage}` : `--regime ${spec.regime}`;
    throw new InvalidInputError(`train: ${what} takes no gates: --gates-from is for flnpf and stage k >= 1`, { flag: 'gates-from', regime: spec.regime });
  }
  if (from && typeof path !== 'string') throw new InvalidInputError(`train: regime '${spec.regime}' needs --gates-from: the ReLU run's '${from.name}' checkpoint`);
  const gates = typeof path === 'string' ? { path, sha256: typeof f['gates-sha256'] === 'string' ? f['gates-sha256'] : sha256File(path) } : undefined;
  checkGates(spec, gates, 'train');
  return gates;
}

function epochLine(r: EpochRecord, total: number): string {
  return (
    `epoch ${r.epoch}/${total}  train loss ${r.trainLoss.toFixed(4)}  test loss ${r.testLoss.toFixed(4)}  ` +
    `test acc ${(100 * r.testAccuracy).toFixed(2)}%  ${Math.round(r.examplesPerSec)} ex/s  ${(r.durationMs / 1000).toFixed(1)} s`
  );
}

/** Progress renderer: a bar on a TTY, plain lines otherwise. Pure over the write function. */
export function progressPrinter(write: (s: string) => void, isTty: boolean, epochs: number): (e: TrialProgress) => void {
  let barShown = false;
  const clearBar = (): void => {
    if (barShown) write('\r\x1b[K');
    barShown = false;
  };
  return (e) => {
    switch (e.kind) {
      case 'started':
        write(`backend ${e.backend}${e.backendNote ? ` (${e.backendNote})` : ''}; ${e.trainExamples} train / ${e.testExamples} test examples; ${e.stepsPerEpoch} steps per epoch\n`);
        break;
      case 'step':
        if (isTty) {
          const width = 30;
          const done = Math.round((width * e.step) / e.stepsPerEpoch);
          write(`\r\x1b[Kepoch ${e.epoch}/${epochs} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${e.step}/${e.stepsPerEpoch}${e.loss !== undefined ? `  loss ${e.loss.toFixed(4)}` : ''}`);
          barShown = true;
        }
        break;
      case 'epoch':
        clearBar();
        write(epochLine(e.record, epochs) + '\n');
        break;
      case 'checkpoint':
        clearBar();
        write(`checkpoint ${e.checkpoint.name} (epoch ${e.checkpoint.epoch}) -> ${e.checkpoint.path} sha256 ${e.checkpoint.sha256}\n`);
        break;
      case 'npk':
        clearBar();
        write(`nu at epoch ${e.point.epoch}: ${e.point.nu === null ? `undefined (${e.point.reason ?? e.point.method})` : `${e.point.nu} (${e.point.method})`}\n`);
        break;
      case 'ntk-split':
        clearBar();
        write(`ntk split at epoch ${e.point.epoch}: tr K_v ${e.point.valueTrace}, tr K_phi ${e.point.featureTrace}\n`);
        break;
    }
  };
}

export function exitCodeOf(result: TrialResult): number {
  return result.status === 'succeeded' ? 0 : result.status === 'diverged' ? 1 : 130;
}

export async function run(argv: string[]): Promise<number> {
  let spec: TrialSpec;
  let gates: CheckpointRef | undefined;
  let flags: ParsedFlags;
  try {
    const args = parseCommandArgs(SPEC, argv);
    if (args.help) return printUsage(SPEC);
    flags = args.values;
    spec = specFromFlags(flags);
    gates = gatesFromFlags(flags, spec);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof NpfError) {
      console.error(`npf ${err.message}`.replace(/^npf (?!train)/, 'npf train: '));
      return 2;
    }
    throw err;
  }
  // Loaded only now: --help and flag errors stay fast and need no TensorFlow.js.
  const { runTrial } = await import('../../science/run-trial.js');
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const result = await runTrial(spec, {
      gates,
      signal: controller.signal,
      checkpointDir: typeof flags['checkpoint-dir'] === 'string' ? flags['checkpoint-dir'] : undefined,
      onProgress: progressPrinter((s) => process.stderr.write(s), Boolean(process.stderr.isTTY), spec.epochs),
    });
    if (result.status === 'diverged') process.stderr.write(`diverged: the loss became NaN/Inf at epoch ${result.divergedAtEpoch}\n`);
    process.stdout.write(JSON.stringify(result) + '\n');
    return exitCodeOf(result);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
