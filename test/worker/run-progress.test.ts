import { describe, expect, it } from 'vitest';
import { estimateRemainingMs, renderProgress, trialLabel, type ProgressModel } from '../../cli/commands/run.js';

function model(over: Partial<ProgressModel> = {}): ProgressModel {
  return {
    name: 'quick',
    total: 10,
    counts: { blocked: 2, pending: 3, leased: 0, running: 2, succeeded: 2, failed: 1, cancelled: 0 },
    running: new Map([
      ['t1', { label: 'relu fc adam 0.0003 seed 1', epoch: 2, epochs: 3, accuracy: 0.9512, startedMs: 0 }],
      ['t2', { label: 'flnpf fc adam 0.0003 seed 0', epoch: 0, epochs: 3, startedMs: 5_000 }],
    ]),
    finishedMs: [],
    workers: 2,
    startedMs: 0,
    ...over,
  };
}

describe('run progress display', () => {
  it('run - the block shows tasks by state and each running trial\'s epoch in progress (never epoch 0), without an ETA before a trial finished', () => {
    const lines = renderProgress(model(), 65_000);
    expect(lines[0]).toBe('quick: 3/10 done | elapsed 1m05s | succeeded 2, failed 1, running 2, pending 3, blocked 2');
    expect(lines.slice(1)).toEqual(['  flnpf fc adam 0.0003 seed 0: epoch 1/3 (1m00s)', '  relu fc adam 0.0003 seed 1: epoch 3/3, test acc 95.12% (1m05s)']);
  });

  it('run - the block fits the terminal: lines cut to its width, at most its height', () => {
    const lines = renderProgress(model(), 65_000, 40, 2);
    expect(lines).toEqual(['quick: 3/10 done | elapsed 1m05s | succ~', '  ... and 2 more running']);
    expect(lines.every((l) => l.length <= 40)).toBe(true);
    expect(renderProgress(model(), 65_000, 40, 3).slice(1)).toEqual(['  flnpf fc adam 0.0003 seed 0: epoch 1/~', '  relu fc adam 0.0003 seed 1: epoch 3/3~']);
  });

  it('run - the ETA is the mean trial time times the trials left over the workers', () => {
    const m = model({ finishedMs: [10_000, 30_000] });
    expect(estimateRemainingMs(m)).toBe((20_000 * 7) / 2);
    expect(renderProgress(m, 1000)[0]).toMatch(/^quick: 3\/10 done \| elapsed 1s, ETA 1m10s \|/);
  });

  it('run - a trial is labelled by regime (stage k), arch, optimiser, step size and seed', () => {
    expect(trialLabel({ dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4, regime: 'stage', stage: 3, seed: 4 }, 'x')).toBe('stage 3 gconv adam 0.0003 seed 4');
    expect(trialLabel(undefined, 'abcdef0123456789')).toBe('abcdef012345');
  });
});
