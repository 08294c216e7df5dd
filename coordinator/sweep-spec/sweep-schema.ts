/**
 * The sweep-spec format (YAML) as a zod schema: validation, defaults and the cross-field rules
 * that must hold before anything runs (cifar needs `dir`, stage k needs ReLU epochs >= k *
 * checkpointEvery, FLNPF/stages need a ReLU parent config, ...). Parsed once at the edge into
 * the fully resolved `SweepSpec` that `expandSweep` takes.
 *
 * Layout (see sweeps/*.yaml for examples):
 *   name, description?
 *   axes: { datasets, archs, optimizers: [{name, lrs}], regimes, stages?, seeds | seedCount }
 *   epochs: n | { default?, <regime>? }
 *   checkpointEvery (10), batchSize (32), backend (auto), loss?, init?, gate {beta 4, eps 0.1}
 *   measure? { npk?: {every, examplesPerClass}, ntkSplit?: {every, examplesPerClass, includeBias?} }
 *   resources { cpu 1, gpu 0, memoryMb 2048 } (per arch: axes.archs[i].resources)
 *   fuse (auto): train compatible trials as one stacked process: auto, off, or the most per stack
 *   limits { maxTrials 5000 }, select? { metric: mean, over: lr }
 */
import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { didYouMean } from './did-you-mean.js';
import { BACKENDS } from '../../science/backend/backend-choice.js';
import { DATASETS, datasetDefinition } from '../../science/datasets/registry.js';
import { ARCH_KINDS } from '../../science/models/architecture.js';
import { OPTIMIZERS } from '../../science/optimizers.js';
import { INITS, LOSSES } from '../../science/trial-spec.js';
import { DEFAULT_STAGE_EVERY, NTK_SPLIT_REGIMES, PARENT_REGIME, REGIMES, isStaged, measuresNtkSplit, parentCheckpoint } from '../../science/regimes.js';
import type { BackendName, DatasetName, InitName, LossName, OptimizerName, Regime } from '../../science/types.js';

export const DEFAULT_MAX_TRIALS = 5000;
export const DEFAULT_RESOURCES = { cpu: 1, gpu: 0, memoryMb: 2048 } as const;

/** A strict object whose unknown keys are reported with a did-you-mean suggestion. */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z
    .object(shape, {
      errorMap: (issue, ctx) => {
        if (issue.code === 'unrecognized_keys') {
          const [k] = issue.keys;
          const extra = issue.keys.length > 1 ? ` (also ${issue.keys.slice(1).map((x) => `'${x}'`).join(', ')})` : '';
          return { message: `unknown key '${k}'${didYouMean(k, known)}${extra} (allowed: ${known.join(', ')})` };
        }
        return { message: ctx.defaultError };
      },
    })
    .strict();
}

/** A string enum whose error reads "unknown <what> 'x' (expected a, b, c)". */
function oneOf<const T extends readonly [string, ...string[]]>(what: string, values: T) {
  return z.enum(values as unknown as [T[number], ...T[number][]], {
    errorMap: (issue, ctx) => {
      if (issue.code === 'invalid_enum_value') {
        const got = String(issue.received);
        return { message: `unknown ${what} '${got}'${didYouMean(got, values)} (expected ${values.join(', ')})` };
      }
      if (issue.code === 'invalid_type') {
        return { message: `expected a ${what} (one of ${values.join(', ')}), got ${issue.received}` };
      }
      return { message: ctx.defaultError };
    },
  });
}

const positiveInt = z.number().int().positive();
const positiveNumber = z.number().positive().finite();

const subsetSchema = strictObject({ first: positiveInt.optional(), perClass: positiveInt.optional() }).refine(
  (s) => !(s.first !== undefined && s.perClass !== undefined),
  { message: 'give either first or perClass, not both' },
);

// A task no worker could ever hold (more than a worker may declare, coordinator/limits.ts) is
// refused here, at submission, instead of waiting for ever.
const resourcesSchema = strictObject({
  cpu: positiveNumber.max(LIMITS.workerCpus).optional(),
  gpu: z.number().min(0).max(LIMITS.workerGpus).finite().optional(),
  memoryMb: positiveInt.max(LIMITS.workerMemoryMb).optional(),
});

const datasetEntrySchema = strictObject({
  name: oneOf('dataset', DATASETS),
  /** The dataset's name in results tables and trial keys (default: `name`). */
  label: z.string().min(1).optional(),
  dir: z.string().min(1).optional(),
  trainSubset: subsetSchema.optional(),
  testSubset: subsetSchema.optional(),
});

const archEntrySchema = strictObject({
  kind: oneOf('arch', ARCH_KINDS),
  /** The arch's name in results tables and trial keys (default: `kind`). */
  label: z.string().min(1).optional(),
  width: positiveInt.optional(),
  depth: positiveInt.max(32).optional(),
  bias: z.boolean().optional(),
  /** Per-arch override of the top-level `resources`. */
  resources: resourcesSchema.optional(),
}).superRefine((a, ctx) => {
  if (a.kind !== 'fc') {
    for (const k of ['width', 'depth', 'bias'] as const) {
      if (a[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} applies to arch fc only, not ${a.kind}` });
    }
  }
});

const optimizerEntrySchema = strictObject({
  name: oneOf('optimizer', OPTIMIZERS),
  /** Step sizes to try; several lrs are reduced by `select` in the results table. */
  lrs: z.array(positiveNumber).nonempty('give at least one step size'),
});

const epochsByRegimeSchema = strictObject({
  default: positiveInt.optional(),
  ...(Object.fromEntries(REGIMES.map((r) => [r, positiveInt.optional()])) as Record<Regime, z.ZodOptional<typeof positiveInt>>),
});

const measureEntry = strictObject({ every: positiveInt, examplesPerClass: positiveInt });

const axesSchema = strictObject({
  datasets: z.array(datasetEntrySchema).nonempty('give at least one dataset'),
  archs: z.array(archEntrySchema).nonempty('give at least one arch'),
  optimizers: z.array(optimizerEntrySchema).nonempty('give at least one optimizer'),
  regimes: z.array(oneOf('regime', REGIMES)).nonempty('give at least one regime'),
  /** k values for regime 'stage' (0 = frnpf-ii, k >= 1 = gates from the ReLU parent's best@<k*checkpointEvery>). */
  stages: z.array(z.number().int().min(0).max(100)).nonempty().optional(),
  seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).nonempty().optional(),
  /** Shorthand for seeds 0..seedCount-1. */
  seedCount: positiveInt.max(10_000).optional(),
});

export const sweepSchema = strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'use letters, digits, ".", "_" or "-" (it names the sweep)'),
  description: z.string().optional(),
  axes: axesSchema,
  epochs: z.union([positiveInt.max(100_000), epochsByRegimeSchema]),
  /** Interval (epochs) between the ReLU checkpoints that stages use: stage k reads best@<k*checkpointEvery>. */
  checkpointEvery: positiveInt.default(DEFAULT_STAGE_EVERY),
  batchSize: positiveInt.max(65_536).default(32),
  backend: oneOf('backend', BACKENDS).default('auto'),
  loss: oneOf('loss', LOSSES).optional(),
  init: oneOf('init', INITS).optional(),
  gate: strictObject({ beta: positiveNumber.default(4), eps: z.number().min(0).finite().default(0.1) }).default({}),
  measure: strictObject({ npk: measureEntry.optional(), ntkSplit: measureEntry.extend({ includeBias: z.boolean().optional() }).optional() }).optional(),
  resources: resourcesSchema.default({}),
  /**
   * Fused trials (docs/fusion.md): compatible trials of the sweep may train as one stacked
   * process, each keeping its own result. 'auto' (default): as many per stack as the worker takes
   * (its --fuse, by default per backend); 'off': one trial per process; a number: at most that many
   * per stack. Results are the same either way.
   */
  fuse: z.union([oneOf('fuse setting', ['auto', 'off'] as const), positiveInt.max(64)]).default('auto'),
  limits: strictObject({ maxTrials: positiveInt.default(DEFAULT_MAX_TRIALS) }).default({}),
  select: strictObject({ metric: oneOf('select metric', ['mean'] as const), over: oneOf('select axis', ['lr'] as const) }).optional(),
  /** How the results table reports spread over seeds: population std (ddof 0, the paper's; default) or sample std (ddof 1). */
  report: strictObject({ std: oneOf('report std', ['population', 'sample'] as const).default('population') }).optional(),
}).superRefine((s, ctx) => {
  const regimes = new Set(s.axes.regimes);
  const ix = (r: string) => s.axes.regimes.indexOf(r as never);

  // Seeds: exactly one of seeds / seedCount.
  if (s.axes.seeds === undefined && s.axes.seedCount === undefined) {
    ctx.addIssue({ code: 'custom', path: ['axes'], message: 'give seeds (a list) or seedCount' });
  }
  if (s.axes.seeds !== undefined && s.axes.seedCount !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['axes', 'seedCount'], message: 'give either seeds or seedCount, not both' });
  }

  // Stages only with a staged regime ('stage'), and that regime needs stages.
  const staged = [...regimes].filter(isStaged);
  for (const r of staged) {
    if (s.axes.stages === undefined) ctx.addIssue({ code: 'custom', path: ['axes', 'regimes', ix(r)], message: `regime '${r}' needs axes.stages (the list of k)` });
  }
  if (staged.length === 0 && s.axes.stages !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['axes', 'stages'], message: `axes.stages is given but axes.regimes has no '${REGIMES.filter(isStaged).join("' or '")}'` });
  }

  // cifar needs dir; labels must be unique.
  s.axes.datasets.forEach((d, i) => {
    if (datasetDefinition(d.name).needsDir && d.dir === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['axes', 'datasets', i, 'dir'],
        message: `dataset ${d.name} needs dir: the directory holding its binary files (set it in the spec, with \${ENV_VAR}, or --set axes.datasets[${i}].dir=...)`,
      });
    }
  });
  /** One issue for every entry whose key repeats an earlier one. */
  const refuseRepeats = <T>(items: readonly T[], keyOf: (x: T) => string, path: (i: number) => (string | number)[], message: (key: string) => string): void => {
    const seen = new Set<string>();
    items.forEach((x, i) => {
      const key = keyOf(x);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: path(i), message: message(key) });
      seen.add(key);
    });
  };
  refuseRepeats(s.axes.datasets, (d) => d.label ?? d.name, (i) => ['axes', 'datasets', i], (l) => `dataset '${l}' appears twice: give the entries distinct labels`);
  refuseRepeats(s.axes.archs, (a) => a.label ?? a.kind, (i) => ['axes', 'archs', i], (l) => `arch '${l}' appears twice: give the entries distinct labels`);
  refuseRepeats(s.axes.optimizers, (o) => o.name, (i) => ['axes', 'optimizers', i, 'name'], (n) => `optimizer '${n}' appears twice: list all its step sizes in one lrs`);

  // Epochs per regime, including the ReLU parent that flnpf / stage k >= 1 need.
  const stagesOf = (r: Regime): Array<number | undefined> => (isStaged(r) ? (s.axes.stages ?? []) : [undefined]);
  const needsParent = (r: Regime): boolean => stagesOf(r).some((k) => parentCheckpoint(r, k, s.checkpointEvery) !== undefined);
  const epochsOf = (r: Regime): number | undefined => epochsFor(s, r);
  for (const r of regimes) {
    if (epochsOf(r) === undefined) {
      ctx.addIssue({ code: 'custom', path: ['epochs'], message: `no epochs for regime '${r}' (add epochs.${r} or epochs.default)` });
    }
  }
  const reluEpochs = epochsOf(PARENT_REGIME);
  const who = REGIMES.find((r) => regimes.has(r) && needsParent(r));
  if (who && reluEpochs === undefined && !regimes.has(PARENT_REGIME)) {
    ctx.addIssue({
      code: 'custom',
      path: ['axes', 'regimes', ix(who)],
      message: `regime '${who}' needs a ReLU parent trial, but its epochs are unknown (add epochs.relu or epochs.default)`,
    });
  }
  if (reluEpochs !== undefined && s.axes.stages !== undefined) {
    for (const r of staged) {
      s.axes.stages.forEach((k, i) => {
        const need = parentCheckpoint(r, k, s.checkpointEvery)?.atEpoch;
        if (need !== undefined && need > reluEpochs) {
          ctx.addIssue({
            code: 'custom',
            path: ['axes', 'stages', i],
            message: `stage ${k} needs the ReLU parent's best@${need} checkpoint, but the ReLU parent trains only ${reluEpochs} epochs (raise epochs.relu to ${need} or lower checkpointEvery)`,
          });
        }
      });
    }
  }

  // The NTK split exists for DNPFL only (the other regimes have no trainable feature net).
  if (s.measure?.ntkSplit && ![...regimes].some(measuresNtkSplit)) {
    const names = NTK_SPLIT_REGIMES.join(' or ');
    ctx.addIssue({ code: 'custom', path: ['measure', 'ntkSplit'], message: `the NTK split needs regime ${names} in axes.regimes (it is measured on ${names} trials only)` });
  }
});

export type SweepSpecInput = z.input<typeof sweepSchema>;
type Parsed = z.output<typeof sweepSchema>;

/** A validated, defaulted sweep spec: what `expandSweep` takes. */
export interface SweepSpec extends Omit<Parsed, 'axes'> {
  axes: Omit<Parsed['axes'], 'datasets' | 'archs' | 'optimizers' | 'regimes'> & {
    datasets: Array<Parsed['axes']['datasets'][number] & { name: DatasetName }>;
    archs: Parsed['axes']['archs'];
    optimizers: Array<{ name: OptimizerName; lrs: number[] }>;
    regimes: Regime[];
  };
  backend: BackendName;
  loss?: LossName;
  init?: InitName;
  /** The file it was read from, for error messages (set by the parser). */
  source?: string;
}

/** Epochs for a regime under a spec's `epochs` (number or per-regime map). */
export function epochsFor(spec: Pick<SweepSpec, 'epochs'>, regime: Regime): number | undefined {
  const e = spec.epochs;
  if (typeof e === 'number') return e;
  return (e as Record<string, number | undefined>)[regime] ?? e.default;
}

/** The seed list of a spec (seeds, or 0..seedCount-1). */
export function seedsOf(spec: Pick<SweepSpec, 'axes'>): number[] {
  if (spec.axes.seeds) return [...spec.axes.seeds];
  return Array.from({ length: spec.axes.seedCount ?? 0 }, (_, i) => i);
}
