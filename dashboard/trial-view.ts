/** Pure: a trial's page data from its record. */
import { trialLabel } from '../coordinator/results/trial-label.js';
import type { EpochPoint, TrialLink, TrialResponse } from './api-types.js';
import type { LinkedTrialRecord, TrialRecord } from './data-source.js';
import { compileFigure } from '../figures/render-figure.js';
import { withSeriesToggle } from './interactive-figure.js';
import { trialCurvesFigure } from './trial-figure.js';

function link(l: LinkedTrialRecord): TrialLink {
  return { taskId: l.taskId, label: trialLabel(l.key, l.taskId), state: l.state, checkpoint: l.checkpoint };
}

function point(e: { epoch: number; trainLoss: number | null; testLoss: number | null; testAccuracy: number; examplesPerSec: number }): EpochPoint {
  return { epoch: e.epoch, trainLoss: e.trainLoss, testLoss: e.testLoss, testAccuracy: e.testAccuracy, examplesPerSec: e.examplesPerSec };
}

export function trialView(t: TrialRecord, lastEventSeq: number): TrialResponse {
  // The result's epochs once finished; else those the attempt in progress reported.
  const live = t.progress.filter((p) => p.attempt === t.attempt).map((p) => p.record);
  const curve = t.result ? t.result.epochs : live;
  const accByCheckpoint = new Map((t.result?.checkpoints ?? []).map((c) => [c.name, c.testAccuracy]));
  const attempts: TrialResponse['attempts'] = t.attempts.map((a) => ({ ...a, outcome: a.outcome ?? 'unknown' }));
  if ((t.state === 'leased' || t.state === 'running') && !t.attempts.some((a) => a.attempt === t.attempt)) {
    attempts.push({ attempt: t.attempt, workerId: t.leaseWorker ?? '', startedAtMs: t.leasedAtMs ?? t.updatedAtMs, endedAtMs: null, outcome: t.state, error: null });
  }
  const points = curve.map(point);
  const label = trialLabel(t.key, t.taskId);
  let figure: TrialResponse['figure'] = null;
  if (points.length > 0) {
    const f = trialCurvesFigure(points, label);
    const { spec, seriesField } = withSeriesToggle(f.spec);
    figure = { name: f.name, title: label, vega: compileFigure(f.name, spec), seriesField };
  }
  return {
    taskId: t.taskId,
    label,
    key: { ...t.key },
    state: t.state,
    attempt: t.attempt,
    tries: t.tries,
    worker: t.leaseWorker ?? t.attempts.at(-1)?.workerId ?? null,
    error: t.error,
    backend: t.result?.backend ?? null,
    bestAccuracy: t.result?.bestTestAccuracy ?? (live.length ? Math.max(...live.map((e) => e.testAccuracy)) : null),
    bestEpoch: t.result?.bestEpoch ?? null,
    epochs: typeof t.spec.epochs === 'number' ? t.spec.epochs : null,
    curve: points,
    curveAttempt: t.result ? t.resultAttempt : live.length ? t.attempt : null,
    figure,
    attempts,
    checkpoints: t.checkpoints.map((c) => ({ ...c, testAccuracy: accByCheckpoint.get(c.name) ?? null })),
    spec: t.spec,
    parent: t.parent ? { ...link(t.parent), sha256: t.parent.artifact?.sha256 ?? null } : null,
    dependants: t.dependants.map(link),
    sweeps: t.sweeps,
    lastEventSeq,
  };
}
