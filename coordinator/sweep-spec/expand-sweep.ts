/**
 * Sweep spec -> trials (pure). The cartesian product datasets x archs x (optimizer, lr) x
 * regimes (stage expanded over axes.stages) x seeds, plus the dependency DAG of the paper:
 * - FLNPF copies its frozen gates from the best-test-accuracy checkpoint ('best') of the ReLU
 *   trial with the same dataset / arch / optimizer / step size / seed (Table 2, FLNPF column);
 * - stage k >= 1 takes them from that ReLU trial's best-so-far weights at epoch k * checkpointEvery
 *   ('best@<epoch>', Figure 2 left); stage 0 is FRNPF (II) and has no parent.
 * A ReLU parent missing from the grid is added; each parent's spec asks for exactly the
 * checkpoints its dependants read. Identical trials (same spec and parent) share a taskId and
 * are merged.
 */
import type { ExpandedTask, ResourceRequest, TrialKey } from '../sweep-types.js';
import type { CheckpointRequest, MeasureSpec, Regime, TrialSpec } from '../../science/types.js';
import { DEFAULT_STAGE_EVERY, PARENT_REGIME, isStaged, measuresNtkSplit, parentCheckpoint } from '../../science/regimes.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import { fusionKey } from '../../science/fused/fusion-key.js';
import { describeError } from '../../common/errors.js';
import { LIMITS } from '../limits.js';
import { SweepExpansionError, SweepTooLargeError } from './errors.js';
import { taskIdOf } from './task-id.js';
import { DEFAULT_RESOURCES, epochsFor, seedsOf, type SweepSpec } from './sweep-schema.js';

/** Priority of a ReLU trial that other trials wait on. */
export const PARENT_PRIORITY = 100;
/** Priority of every other trial. */
export const LEAF_PRIORITY = 0;

/** The trials of `regime` in a sweep: one per k of axes.stages for a staged regime, else one. */
function stagesOf(spec: SweepSpec, regime: Regime): Array<number | undefined> {
  return isStaged(regime) ? [...new Set(spec.axes.stages ?? [])] : [undefined];
}

type Dataset = SweepSpec['axes']['datasets'][number];
type Arch = SweepSpec['axes']['archs'][number];

interface Cell {
  dataset: Dataset;
  arch: Arch;
  optimizer: SweepSpec['axes']['optimizers'][number]['name'];
  lr: number;
  seed: number;
}

/** How many trials `spec` expands to, and the factors (for the maxTrials message). */
export function countTrials(spec: SweepSpec): { total: number; grid: number; parents: number; factors: string } {
  const distinct = <T>(xs: readonly T[]) => new Set(xs).size;
  const D = spec.axes.datasets.length;
  const A = spec.axes.archs.length;
  const lrCounts = spec.axes.optimizers.map((o) => ({ name: o.name, n: distinct(o.lrs) }));
  const L = lrCounts.reduce((s, o) => s + o.n, 0);
  const regimes = [...new Set(spec.axes.regimes)];
  const stages = regimes.filter(isStaged).reduce((n, r) => n + stagesOf(spec, r).length, 0);
  const R = regimes.filter((r) => !isStaged(r)).length + stages;
  const S = distinct(seedsOf(spec));
  const grid = D * A * L * R * S;
  const needsParent = regimes.some((r) => stagesOf(spec, r).some((k) => parentCheckpoint(r, k, spec.checkpointEvery)));
  const parents = needsParent && !regimes.includes(PARENT_REGIME) ? D * A * L * S : 0;
  const lrText = lrCounts.map((o) => `${o.name}: ${o.n}`).join(', ');
  const regimeText = stages > 0 ? ` (stage: ${stages} stages)` : '';
  const factors =
    `datasets ${D} x archs ${A} x step sizes ${L} (${lrText}) x regimes ${R}${regimeText} x seeds ${S} = ${grid}` +
    (parents > 0 ? ` + ${parents} auto-added ReLU parents` : '');
  return { total: grid + parents, grid, parents, factors };
}

export interface ExpandOptions {
  /** The coordinator's ceiling on trials per sweep (default LIMITS.maxTrialsPerSweep). */
  maxTrialsPerSweep?: number;
}

/**
 * Expand a sweep spec, as parseSweepSpec validated it, into its trials: ReLU parents first, then
 * the rest in grid order. Throws SweepTooLargeError (over limits.maxTrials) or
 * SweepExpansionError (a trial fails TrialSpec validation) before anything runs.
 */
export function expandSweep(spec: SweepSpec, options: ExpandOptions = {}): ExpandedTask[] {
  const file = spec.source;

  // The spec's limits.maxTrials can only lower the coordinator's ceiling, never raise it.
  const ceiling = options.maxTrialsPerSweep ?? LIMITS.maxTrialsPerSweep;
  const maxTrials = Math.min(spec.limits.maxTrials, ceiling);
  const count = countTrials(spec);
  if (count.total > maxTrials) {
    const hint =
      maxTrials === spec.limits.maxTrials
        ? 'shrink an axis or raise limits.maxTrials'
        : `shrink an axis; the coordinator allows at most ${ceiling} trials per sweep (--max-trials-per-sweep)`;
    throw new SweepTooLargeError(
      `${file ? `${file}: ` : ''}the sweep would expand to ${count.total} trials, more than ${maxTrials === spec.limits.maxTrials ? 'limits.maxTrials' : 'the limit'} ${maxTrials}: ${count.factors} (${hint})`,
      { file, trials: count.total, maxTrials, factors: count.factors },
    );
  }

  const seeds = [...new Set(seedsOf(spec))];
  const regimes = [...new Set(spec.axes.regimes)];
  const cells: Cell[] = [];
  for (const dataset of spec.axes.datasets)
    for (const arch of spec.axes.archs)
      for (const opt of spec.axes.optimizers)
        for (const lr of new Set(opt.lrs)) for (const seed of seeds) cells.push({ dataset, arch, optimizer: opt.name, lr, seed });

  const parents: ExpandedTask[] = [];
  const leaves: ExpandedTask[] = [];
  for (const cell of cells) {
    // Which checkpoints this cell's ReLU trial must write.
    const request: CheckpointRequest = {};
    const bestAt = new Set<number>();
    let dependants = 0;
    for (const regime of regimes) {
      for (const stage of stagesOf(spec, regime)) {
        const from = parentCheckpoint(regime, stage, spec.checkpointEvery);
        if (!from) continue;
        dependants++;
        if (from.atEpoch === undefined) request.best = true;
        else bestAt.add(from.atEpoch);
      }
    }
    if (bestAt.size > 0) request.bestAtEpochs = [...bestAt].sort((a, b) => a - b);

    let parent: ExpandedTask | undefined;
    if (dependants > 0 || regimes.includes(PARENT_REGIME)) {
      const reluSpec = buildSpec(spec, cell, PARENT_REGIME, undefined, dependants > 0 ? request : undefined);
      parent = makeTask(spec, cell, reluSpec, PARENT_REGIME, undefined, undefined, dependants > 0 ? PARENT_PRIORITY : LEAF_PRIORITY);
      (dependants > 0 ? parents : leaves).push(parent);
    }

    for (const regime of regimes) {
      if (regime === PARENT_REGIME) continue;
      for (const stage of stagesOf(spec, regime)) {
        const trialSpec = buildSpec(spec, cell, regime, stage, undefined);
        const from = parentCheckpoint(regime, stage, spec.checkpointEvery);
        const link = from && parent ? { taskId: parent.taskId, checkpoint: from.name } : undefined;
        leaves.push(makeTask(spec, cell, trialSpec, regime, stage, link, LEAF_PRIORITY));
      }
    }
  }

  const seen = new Set<string>();
  const out: ExpandedTask[] = [];
  for (const t of [...parents, ...leaves]) {
    if (seen.has(t.taskId)) continue;
    seen.add(t.taskId);
    out.push(t);
  }
  return out;
}

function resourcesFor(spec: SweepSpec, arch: Arch): ResourceRequest {
  return { ...DEFAULT_RESOURCES, ...spec.resources, ...(arch.resources ?? {}) };
}

function measureFor(spec: SweepSpec, regime: Regime): MeasureSpec | undefined {
  const m: MeasureSpec = {};
  if (spec.measure?.npk) m.npk = { ...spec.measure.npk };
  // The NTK split splits DNPFL's NTK into value and feature parts; other regimes have no trainable feature net.
  if (spec.measure?.ntkSplit && measuresNtkSplit(regime)) m.ntkSplit = { ...spec.measure.ntkSplit };
  return Object.keys(m).length > 0 ? m : undefined;
}

function keyOf(cell: Cell, regime: Regime, stage: number | undefined): TrialKey {
  const key: TrialKey = {
    dataset: cell.dataset.label ?? cell.dataset.name,
    arch: cell.arch.label ?? cell.arch.kind,
    optimizer: cell.optimizer,
    lr: cell.lr,
    regime,
    seed: cell.seed,
  };
  if (stage !== undefined) key.stage = stage;
  return key;
}

function buildSpec(
  spec: SweepSpec,
  cell: Cell,
  regime: Regime,
  stage: number | undefined,
  checkpoints: CheckpointRequest | undefined,
): TrialSpec {
  const { dataset, arch } = cell;
  const raw: Record<string, unknown> = {
    dataset: dropUndefined({ name: dataset.name, dir: dataset.dir, trainSubset: dataset.trainSubset, testSubset: dataset.testSubset }),
    arch: arch.kind === 'fc' ? dropUndefined({ kind: 'fc', width: arch.width, depth: arch.depth, bias: arch.bias }) : { kind: arch.kind },
    regime,
    stage,
    // Stage k reads best@<k * checkpointEvery>; the trial checks that name (omitted at the default, so ids stay stable).
    stageEvery: isStaged(regime) && spec.checkpointEvery !== DEFAULT_STAGE_EVERY ? spec.checkpointEvery : undefined,
    gate: { ...spec.gate },
    optimizer: { name: cell.optimizer, lr: cell.lr },
    loss: spec.loss,
    init: spec.init,
    epochs: epochsFor(spec, regime),
    batchSize: spec.batchSize,
    seed: cell.seed,
    backend: spec.backend,
    checkpoints,
    measure: measureFor(spec, regime),
  };
  // The parent's checkpoint is not part of the spec: the worker passes it beside it (runTrial's gates).
  let resolved: TrialSpec;
  try {
    resolved = resolveTrialSpec(dropUndefined(raw));
  } catch (err) {
    const k = keyOf(cell, regime, stage);
    throw new SweepExpansionError(
      `${spec.source ? `${spec.source}: ` : ''}trial ${describeKey(k)} is not a valid trial: ${describeError(err)}`,
      { file: spec.source, key: k },
      { cause: err },
    );
  }
  return dropUndefined({ ...resolved }) as TrialSpec;
}

function makeTask(
  spec: SweepSpec,
  cell: Cell,
  trialSpec: TrialSpec,
  regime: Regime,
  stage: number | undefined,
  parent: { taskId: string; checkpoint: string } | undefined,
  priority: number,
): ExpandedTask {
  const task: ExpandedTask = {
    taskId: taskIdOf(trialSpec, parent),
    key: keyOf(cell, regime, stage),
    spec: trialSpec,
    resources: resourcesFor(spec, cell.arch),
    priority,
  };
  if (parent) task.parent = parent;
  const fuse = spec.fuse;
  if (fuse !== 'off') {
    const key = fusionKey(trialSpec);
    if (key) task.fusion = { key, max: fuse === 'auto' ? 0 : fuse };
  }
  return task;
}

/** 'mnist/fc/sgd lr=0.01/stage 3/seed 2' */
export function describeKey(k: TrialKey): string {
  const regime = k.stage !== undefined ? `stage ${k.stage}` : k.regime;
  return `${k.dataset}/${k.arch}/${k.optimizer} lr=${k.lr}/${regime}/seed ${k.seed}`;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

