/**
 * Adapter: the sweep's results.json (written by `npf run` from coordinator/results:
 * { table2: ResultsTable, stages: StagesTable, npkCurves: NpkCurve[], ntkSplitCurves: NtkSplitCurve[] })
 * -> FiguresInput. Pure. The JSON is checked (zod, only the fields used here) so a foreign or
 * truncated file gives one FigureDataError naming the field, not a TypeError.
 *
 * results.json also holds each trial's test accuracy per epoch (`trialCurves`), drawn as the
 * trial-curves figure (absent from results.json files written before it was added).
 */
import { z } from 'zod';
import { FigureDataError } from './errors.js';
import { archLabel, datasetLabel, optimizerLabel } from '../science/labels.js';
import type { CurvePoint, FiguresInput, NtkSplitSeries, ReferenceLine, Table2Cell } from './figure-data.js';

const num = z.number().nullable();
const stat = z.object({ mean: num, std: num, n: z.number() }).passthrough();
const curveStat = z.object({ mean: z.number(), std: num, n: z.number() }).passthrough();
const groupKey = z.object({ dataset: z.string(), arch: z.string(), optimizer: z.string(), lr: z.number(), regime: z.string() }).passthrough();

const resultsJsonSchema = z
  .object({
    table2: z
      .object({
        rows: z.array(
          z
            .object({
              dataset: z.string(),
              arch: z.string(),
              optimizer: z.string(),
              lr: z.number().optional(),
              cells: z.record(stat.extend({ paper: z.object({ mean: z.number() }).passthrough().optional() }).nullable()),
            })
            .passthrough(),
        ),
      })
      .passthrough()
      .optional(),
    stages: z
      .object({
        groups: z.array(
          z
            .object({
              dataset: z.string(),
              arch: z.string(),
              optimizer: z.string(),
              lr: z.number(),
              stages: z.array(stat.extend({ stage: z.number(), paper: z.object({ mean: z.number() }).passthrough().optional() })),
              relu: stat.nullable().optional(),
              paperLines: z.object({ cntk: z.number(), relu: z.number().optional() }).optional(),
            })
            .passthrough(),
        ),
      })
      .passthrough()
      .optional(),
    npkCurves: z
      .array(
        z
          .object({
            key: groupKey,
            // mean is null where nu was undefined in every run (n = 0); measured: runs measured at that epoch.
            points: z.array(z.object({ epoch: z.number(), nu: z.object({ mean: num, std: num, n: z.number() }).passthrough(), measured: z.number().optional() }).passthrough()),
          })
          .passthrough(),
      )
      .optional(),
    ntkSplitCurves: z
      .array(
        z
          .object({
            key: groupKey,
            points: z.array(z.object({ epoch: z.number(), valueTrace: curveStat, valueFrobenius: curveStat, featureTrace: curveStat, featureFrobenius: curveStat }).passthrough()),
          })
          .passthrough(),
      )
      .optional(),
    trialCurves: z
      .array(z.object({ label: z.string(), regime: z.string(), points: z.array(z.object({ epoch: z.number(), testAccuracy: z.number() }).passthrough()) }).passthrough())
      .optional(),
  })
  .passthrough();

function groupLabel(g: { dataset: string; arch: string; optimizer: string; lr?: number }, withLr: boolean): string {
  return `${archLabel(g.arch)} ${optimizerLabel(g.optimizer)} ${datasetLabel(g.dataset)}${withLr && g.lr !== undefined ? ` lr ${g.lr}` : ''}`;
}

function curve(points: Array<{ epoch: number; s: { mean: number; std: number | null; n: number } }>): CurvePoint[] {
  return points.filter((p) => Number.isFinite(p.s.mean)).map((p) => ({ epoch: p.epoch, mean: p.s.mean, std: p.s.std ?? 0, n: p.s.n }));
}

/** results.json (parsed JSON value) -> FiguresInput. `file` names the source in errors. */
export function figuresInputFromResults(raw: unknown, file = 'results.json', title?: string): FiguresInput {
  const parsed = resultsJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(root)';
    throw new FigureDataError(`${file}: field '${path}': ${issue.message} (is this a results.json from npf run?)`, { file, path });
  }
  const r = parsed.data;

  const rows = r.table2?.rows ?? [];
  const severalLr = rows.some((row) => row.lr !== undefined);
  const table2: Table2Cell[] = rows.flatMap((row) =>
    Object.entries(row.cells).flatMap(([regime, c]) =>
      c && c.mean !== null && c.n > 0
        ? [{ dataset: row.dataset, arch: row.arch, optimizer: row.optimizer, regime, mean: c.mean, std: c.std ?? 0, n: c.n, ...(c.paper ? { paper: c.paper.mean } : {}), ...(severalLr && row.lr !== undefined ? { variant: `lr ${row.lr}` } : {}) }]
        : [],
    ),
  );

  const groups = r.stages?.groups ?? [];
  const stagesWithLr = new Set(groups.map((g) => `${g.dataset}/${g.arch}/${g.optimizer}`)).size < groups.length;
  const stages = groups.map((g) => {
    const references: ReferenceLine[] = [];
    if (g.paperLines?.relu !== undefined) references.push({ label: `ReLU ${g.paperLines.relu.toFixed(2)}`, value: g.paperLines.relu });
    else if (g.relu && g.relu.mean !== null) references.push({ label: `ReLU (this sweep) ${g.relu.mean.toFixed(2)}`, value: g.relu.mean });
    if (g.paperLines) references.push({ label: `CNTK ${g.paperLines.cntk.toFixed(2)}`, value: g.paperLines.cntk });
    return {
      label: groupLabel(g, stagesWithLr),
      // The results module attaches the paper's stage values only in the paper's own setting.
      paperSetting: g.stages.some((p) => p.paper !== undefined),
      points: g.stages.filter((p) => p.mean !== null && p.n > 0).map((p) => ({ stage: p.stage, mean: p.mean!, std: p.std ?? 0, n: p.n, ...(p.paper ? { paper: p.paper.mean } : {}) })),
      references,
    };
  });

  const nu = (r.npkCurves ?? []).map((c) => {
    const points: CurvePoint[] = c.points.flatMap((p) =>
      p.nu.mean !== null && Number.isFinite(p.nu.mean) && p.nu.n > 0
        ? [{ epoch: p.epoch, mean: p.nu.mean, std: p.nu.std ?? 0, n: p.nu.n, ...(p.measured !== undefined && p.measured > p.nu.n ? { of: p.measured } : {}) }]
        : [],
    );
    const undefinedEpochs = c.points.filter((p) => p.nu.n === 0 && (p.measured ?? 0) > 0).map((p) => p.epoch);
    return { label: groupLabel(c.key, true), points, ...(undefinedEpochs.length ? { undefinedEpochs } : {}) };
  });

  const ntkSplit = (r.ntkSplitCurves ?? []).map((c) => {
    const series: NtkSplitSeries[] = [
      { kernel: 'value', measure: 'trace', points: curve(c.points.map((p) => ({ epoch: p.epoch, s: p.valueTrace }))) },
      { kernel: 'feature', measure: 'trace', points: curve(c.points.map((p) => ({ epoch: p.epoch, s: p.featureTrace }))) },
      { kernel: 'value', measure: 'frobenius', points: curve(c.points.map((p) => ({ epoch: p.epoch, s: p.valueFrobenius }))) },
      { kernel: 'feature', measure: 'frobenius', points: curve(c.points.map((p) => ({ epoch: p.epoch, s: p.featureFrobenius }))) },
    ];
    return { label: groupLabel(c.key, true), series: series.filter((s) => s.points.length > 0) };
  });

  const trials = (r.trialCurves ?? []).filter((t) => t.points.length > 0).map((t) => ({ label: t.label, regime: t.regime, points: t.points.map((p) => ({ epoch: p.epoch, testAccuracy: p.testAccuracy })) }));

  return { ...(title ? { title } : {}), table2, stages, nu, ntkSplit, ...(trials.length > 0 ? { trials } : {}) };
}
