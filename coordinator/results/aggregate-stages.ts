/**
 * Trial outcomes -> the stages experiment (Figure 2 left, pure): per (dataset, arch, optimiser,
 * lr) group, the FLNPF-through-stages accuracy (mean +- std over seeds) for each stage k, the
 * ReLU parent's own accuracy as the reference line, and the paper's values where the group is
 * the paper's setting (GCONV / Adam / CIFAR-10).
 */
import type { TrialOutcome } from '../sweep-types.js';
import { archLabel, datasetLabel, optimizerLabel } from '../../science/labels.js';
import { compareRows } from './row-order.js';
import { PAPER_CNTK_ACCURACY, isPaperStagesSetting, lookupPaperCell, type PaperReference } from './paper-reference.js';
import { seedStats, type SeedStats, type StdConvention } from './seed-stats.js';

export interface StagesOptions {
  std?: StdConvention;
  expectedSeeds?: readonly number[];
  paper?: PaperReference;
}

export interface StagePoint extends SeedStats {
  stage: number;
  paper?: { mean: number; exact: boolean };
  diff?: number | null;
}

export interface StagesGroup {
  dataset: string;
  arch: string;
  optimizer: string;
  lr: number;
  labels: { dataset: string; arch: string; optimizer: string };
  stages: StagePoint[];
  /** The ReLU trials of the group (the stages' parents), when the sweep reports them. */
  relu: SeedStats | null;
  /** The paper's reference lines for this setting (CNTK 77.43, ReLU 80.32), when it is the paper's setting. */
  paperLines?: { cntk: number; relu?: number };
}

export interface StagesTable {
  groups: StagesGroup[];
  std: StdConvention;
}

export function aggregateStages(outcomes: readonly TrialOutcome[], opts: StagesOptions = {}): StagesTable {
  const convention = opts.std ?? 'population';
  const groups = new Map<string, { dataset: string; arch: string; optimizer: string; lr: number; stages: Map<number, TrialOutcome[]>; relu: TrialOutcome[] }>();
  for (const o of outcomes) {
    if (o.key.regime !== 'stage' && o.key.regime !== 'relu') continue;
    const k = [o.key.dataset, o.key.arch, o.key.optimizer, o.key.lr].join('\u0000');
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { dataset: o.key.dataset, arch: o.key.arch, optimizer: o.key.optimizer, lr: o.key.lr, stages: new Map(), relu: [] }));
    if (o.key.regime === 'relu') g.relu.push(o);
    else {
      const list = g.stages.get(o.key.stage ?? 0) ?? [];
      list.push(o);
      g.stages.set(o.key.stage ?? 0, list);
    }
  }
  const out: StagesGroup[] = [];
  for (const g of groups.values()) {
    if (g.stages.size === 0) continue; // ReLU trials without stages belong to Table 2 only
    const paperHere = opts.paper && isPaperStagesSetting(g);
    const stages: StagePoint[] = [...g.stages]
      .sort((a, b) => a[0] - b[0])
      .map(([stage, os]) => {
        const point: StagePoint = { stage, ...seedStats(os, convention, opts.expectedSeeds) };
        const p = paperHere ? opts.paper!.stages.find((s) => s.stage === stage) : undefined;
        if (p) {
          point.paper = { mean: p.mean, exact: p.exact };
          point.diff = point.mean === null ? null : point.mean - p.mean;
        }
        return point;
      });
    const group: StagesGroup = {
      dataset: g.dataset,
      arch: g.arch,
      optimizer: g.optimizer,
      lr: g.lr,
      labels: { dataset: datasetLabel(g.dataset), arch: archLabel(g.arch), optimizer: optimizerLabel(g.optimizer) },
      stages,
      relu: g.relu.length > 0 ? seedStats(g.relu, convention, opts.expectedSeeds) : null,
    };
    if (paperHere) {
      const relu = lookupPaperCell(opts.paper!.table2, { ...g, regime: 'relu' }, 'paper');
      group.paperLines = { cntk: PAPER_CNTK_ACCURACY, ...(relu ? { relu: relu.mean } : {}) };
    }
    out.push(group);
  }
  out.sort(compareRows);
  return { groups: out, std: convention };
}
