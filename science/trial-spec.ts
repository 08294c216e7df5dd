/**
 * Validation and defaults for a single trial, done once at the edge (CLI flags, YAML, gRPC)
 * into the fully resolved `TrialSpec` that runTrial takes.
 */
import { z } from 'zod';
import { InvalidInputError } from '../common/errors.js';
import { BACKENDS } from './backend/backend-choice.js';
import { DATASETS, datasetDefinition } from './datasets/registry.js';
import { OPTIMIZERS } from './optimizers.js';
import { REGIMES, NTK_SPLIT_NEEDS, isStaged, measuresNtkSplit, parentCheckpoint } from './regimes.js';
import type { CheckpointRef, InitName, LossName, TrialSpec } from './types.js';

/** The losses a trial may train with (default: the dataset's, see datasets/registry.ts). */
export const LOSSES = ['cross-entropy', 'squared'] as const satisfies readonly LossName[];

/** The weight initialisations a trial may use (default glorot-uniform). */
export const INITS = ['glorot-uniform', 'sign-sqrt2'] as const satisfies readonly InitName[];

const positiveInt = z.number().int().positive();

const subsetSchema = z
  .object({ first: positiveInt.optional(), perClass: positiveInt.optional() })
  .strict()
  .refine((s) => !(s.first !== undefined && s.perClass !== undefined), {
    message: 'give either first or perClass, not both',
  });

export const datasetSchema = z
  .object({
    name: z.enum(DATASETS),
    dir: z.string().min(1).optional(),
    trainSubset: subsetSchema.optional(),
    testSubset: subsetSchema.optional(),
  })
  .strict();

export const archSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('fc'),
      width: positiveInt.default(128),
      depth: positiveInt.max(32).default(5),
      bias: z.boolean().default(true),
    })
    .strict(),
  z.object({ kind: z.literal('vconv') }).strict(),
  z.object({ kind: z.literal('gconv') }).strict(),
]);

export const regimeSchema = z.enum(REGIMES);

export const optimizerSchema = z
  .object({ name: z.enum(OPTIMIZERS), lr: z.number().positive().finite() })
  .strict();

export const backendSchema = z.enum(BACKENDS);

const checkpointRefSchema = z
  .object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex digits') })
  .strict();

export const trialSpecSchema = z
  .object({
    dataset: datasetSchema,
    arch: archSchema.default({ kind: 'fc', width: 128, depth: 5, bias: true }),
    regime: regimeSchema,
    stage: z.number().int().min(0).max(100).optional(),
    stageEvery: z.number().int().positive().optional(),
    gate: z
      .object({ beta: z.number().positive().finite().default(4), eps: z.number().min(0).finite().default(0.1) })
      .strict()
      .default({ beta: 4, eps: 0.1 }),
    optimizer: optimizerSchema,
    loss: z.enum(LOSSES).optional(),
    init: z.enum(INITS).default('glorot-uniform'),
    epochs: positiveInt.max(100_000),
    batchSize: positiveInt.max(65_536).default(32),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    backend: backendSchema.default('auto'),
    checkpoints: z
      .object({
        best: z.boolean().optional(),
        bestAtEpochs: z.array(positiveInt).optional(),
        final: z.boolean().optional(),
      })
      .strict()
      .optional(),
    measure: z
      .object({
        npk: z.object({ every: positiveInt, examplesPerClass: positiveInt }).strict().optional(),
        ntkSplit: z.object({ every: positiveInt, examplesPerClass: positiveInt, includeBias: z.boolean().optional() }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const staged = isStaged(s.regime);
    if (staged && s.stage === undefined) {
      ctx.addIssue({ code: 'custom', path: ['stage'], message: `regime '${s.regime}' needs a stage number k (0 = frnpf-ii)` });
    }
    if (!staged && s.stageEvery !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['stageEvery'], message: `stageEvery is only meaningful for regime 'stage', not '${s.regime}'` });
    }
    if (!staged && s.stage !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['stage'], message: `stage is only meaningful for regime 'stage', not '${s.regime}'` });
    }
    if (s.measure?.ntkSplit && !measuresNtkSplit(s.regime)) {
      ctx.addIssue({ code: 'custom', path: ['measure', 'ntkSplit'], message: NTK_SPLIT_NEEDS });
    }
  });

/** Format a zod issue list as one sentence naming each field path. */
export function formatZodIssues(issues: readonly z.ZodIssue[], where?: string): string {
  const parts = issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `${where ? `${where}: ` : ''}invalid trial spec: ${parts.join('; ')}`;
}

/** Validate untrusted input into a fully resolved TrialSpec, or throw InvalidInputError. */
export function resolveTrialSpec(input: unknown, where?: string): TrialSpec {
  const parsed = trialSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(formatZodIssues(parsed.error.issues, where), { where, issues: parsed.error.issues });
  }
  const s = parsed.data;
  return { ...s, loss: s.loss ?? datasetDefinition(s.dataset.name).defaultLoss } as TrialSpec;
}

/**
 * Check the gates a trial is given beside its spec: FLNPF and stage k >= 1 need a ReLU parent's
 * checkpoint {path, sha256}; every other regime takes none. Throws InvalidInputError.
 */
export function checkGates(spec: Pick<TrialSpec, 'regime' | 'stage' | 'stageEvery'>, gates: CheckpointRef | undefined, where?: string): void {
  const at = where ? `${where}: ` : '';
  const from = parentCheckpoint(spec.regime, spec.stage, spec.stageEvery);
  if (from && gates === undefined) {
    throw new InvalidInputError(`${at}regime '${spec.regime}' needs gates: the ReLU parent's '${from.name}' checkpoint {path, sha256}`, { field: 'gates', regime: spec.regime });
  }
  if (!from && gates !== undefined) {
    const what = spec.stage !== undefined ? `stage ${spec.stage}` : `regime '${spec.regime}'`;
    throw new InvalidInputError(`${at}${what} takes no gates from a checkpoint, got ${gates.path}`, { field: 'gates', regime: spec.regime });
  }
  if (gates !== undefined) {
    const parsed = checkpointRefSchema.safeParse(gates);
    if (!parsed.success) {
      const parts = parsed.error.issues.map((i) => `gates.${i.path.join('.')}: ${i.message}`);
      throw new InvalidInputError(`${at}${parts.join('; ')}`, { field: 'gates', issues: parsed.error.issues });
    }
  }
}
