import { describe, expect, it } from 'vitest';
import { aggregate } from '../../coordinator/results/aggregate-table.js';
import { mean, seedStats, std } from '../../coordinator/results/seed-stats.js';
import { parseTable2Csv } from '../../coordinator/results/paper-reference.js';
import { outcome } from './fixtures.js';

const close = (a: number | null | undefined, b: number) => expect(a).toBeCloseTo(b, 10);

describe('results - seed statistics', () => {
  it('mean, population std (ddof 0) and sample std (ddof 1)', () => {
    const xs = [97.8, 97.9, 98.0];
    close(mean(xs), 97.9);
    close(std(xs), Math.sqrt(0.02 / 3));
    close(std(xs, 'sample'), 0.1);
    expect(std([1], 'sample')).toBeNull();
    expect(std([1])).toBe(0);
    expect(mean([])).toBeNull();
  });

  it('counts n, missing seeds, diverged, failed and pending against the expected seeds', () => {
    const os = [
      outcome({ regime: 'relu', seed: 0 }, 'succeeded', 0.978),
      outcome({ regime: 'relu', seed: 1 }, 'succeeded', 0.98),
      outcome({ regime: 'relu', seed: 2 }, 'diverged', 0.5),
      outcome({ regime: 'relu', seed: 3 }, 'failed'),
      outcome({ regime: 'relu', seed: 4 }, 'pending'),
    ];
    const s = seedStats(os, 'population', [0, 1, 2, 3, 4, 5]);
    expect(s).toMatchObject({ n: 2, seeds: [0, 1], missingSeeds: [2, 3, 4, 5], diverged: 1, failed: 1, pending: 1, cancelled: 0 });
    close(s.mean, 97.9);
    close(s.std, 0.1);
    // Default expected seeds: those with an outcome.
    expect(seedStats(os, 'population').expectedSeeds).toEqual([0, 1, 2, 3, 4]);
  });

  it('a succeeded outcome whose result diverged counts as diverged; a finished duplicate wins', () => {
    const o = outcome({ regime: 'relu', seed: 0 }, 'succeeded', 0.9);
    o.result!.status = 'diverged';
    const s = seedStats([o, outcome({ regime: 'relu', seed: 1 }, 'pending'), outcome({ regime: 'relu', seed: 1 }, 'succeeded', 0.95)], 'population');
    expect(s).toMatchObject({ n: 1, seeds: [1], diverged: 1, pending: 0 });
  });
});

describe('results - Table 2 aggregation', () => {
  const sgd = [
    // lr 0.1: highest mean on survivors but one seed diverged -> not chosen
    outcome({ regime: 'dnpfl', lr: 0.1, seed: 0 }, 'succeeded', 0.99),
    outcome({ regime: 'dnpfl', lr: 0.1, seed: 1 }, 'diverged', 0.1),
    // lr 0.01: mean 97.9
    outcome({ regime: 'dnpfl', lr: 0.01, seed: 0 }, 'succeeded', 0.978),
    outcome({ regime: 'dnpfl', lr: 0.01, seed: 1 }, 'succeeded', 0.98),
    // lr 0.001: mean 97.0
    outcome({ regime: 'dnpfl', lr: 0.001, seed: 0 }, 'succeeded', 0.97),
    outcome({ regime: 'dnpfl', lr: 0.001, seed: 1 }, 'succeeded', 0.97),
    // relu: 0.001 beats 0.01
    outcome({ regime: 'relu', lr: 0.01, seed: 0 }, 'succeeded', 0.96),
    outcome({ regime: 'relu', lr: 0.001, seed: 0 }, 'succeeded', 0.965),
    outcome({ regime: 'relu', lr: 0.001, seed: 1 }, 'pending'),
  ];

  it('picks the best step size per cell by mean over seeds and records the choice', () => {
    const t = aggregate(sgd);
    expect(t.rows).toHaveLength(1);
    const dnpfl = t.rows[0].cells.dnpfl!;
    expect(dnpfl.lr).toBe(0.01);
    close(dnpfl.mean, 97.9);
    expect(dnpfl.selection!.chosen).toBe(0.01);
    expect(dnpfl.selection!.candidates.map((c) => [c.lr, c.n, c.diverged])).toEqual([
      [0.1, 1, 1],
      [0.01, 2, 0],
      [0.001, 2, 0],
    ]);
    close(dnpfl.selection!.candidates[0].mean, 99);
    const relu = t.rows[0].cells.relu!;
    expect(relu.lr).toBe(0.001);
    expect(relu).toMatchObject({ n: 1, missingSeeds: [1], pending: 1 });
    expect(t.rows[0].cells['frnpf-ii']).toBeNull();
    expect(t.columns.map((c) => c.label)).toEqual(['FRNPF (II)', 'FRNPF (DI)', 'DNPFL', 'FLNPF', 'ReLU']);
  });

  it("select 'none' keeps one row per step size", () => {
    const t = aggregate(sgd, { select: 'none' });
    expect(t.rows.map((r) => r.lr)).toEqual([0.1, 0.01, 0.001]);
    expect(t.rows.every((r) => Object.values(r.cells).every((c) => !c || !c.selection))).toBe(true);
  });

  it('sample std on request', () => {
    const t = aggregate(sgd, { std: 'sample' });
    close(t.rows[0].cells.dnpfl!.std, Math.sqrt(2 * 0.1 ** 2 / 1));
    expect(t.std).toBe('sample');
  });

  it('puts the paper value and the difference beside matching cells only', () => {
    const paper = parseTable2Csv(
      'source,arch,optimizer,dataset,regime,mean,std\npaper,FC,SGD,MNIST,DNPFL,97.86,0.11\npaper,GCONV,Adam,CIFAR-10,ReLU,80.32,0.13\nnotebooks,GCONV,Adam,CIFAR-10,ReLU,80.32,0.35\n',
    );
    const os = [...sgd, outcome({ dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4, regime: 'relu', seed: 0 }, 'succeeded', 0.8)];
    const t = aggregate(os, { paper });
    const fc = t.rows.find((r) => r.arch === 'fc')!;
    expect(fc.cells.dnpfl!.paper).toEqual({ mean: 97.86, std: 0.11, source: 'paper' });
    close(fc.cells.dnpfl!.diff, 97.9 - 97.86);
    expect(fc.cells.relu!.paper).toBeUndefined();
    const g = aggregate(os, { paper, paperSource: 'notebooks' }).rows.find((r) => r.arch === 'gconv')!;
    expect(g.cells.relu!.paper).toEqual({ mean: 80.32, std: 0.35, source: 'notebooks' });
    // Table 2 row order: FC before GCONV.
    expect(t.rows.map((r) => r.labels.arch)).toEqual(['FC', 'GCONV']);
  });

  it('ignores stage outcomes (they have their own table)', () => {
    const t = aggregate([outcome({ regime: 'stage', stage: 1, seed: 0 }, 'succeeded', 0.7)]);
    expect(t.rows).toHaveLength(0);
  });
});

describe('results - options from a sweep spec', async () => {
  const { parseSweepSpec } = await import('../../coordinator/sweep-spec/parse-sweep.js');
  const { aggregateOptionsFor } = await import('../../coordinator/results/aggregate-options-for.js');
  const text = (extra: string, lrs: string) =>
    `name: t\naxes:\n  datasets: [{ name: mnist }]\n  archs: [{ kind: fc }]\n  optimizers: [{ name: sgd, lrs: ${lrs} }]\n  regimes: [relu]\n  seedCount: 3\nepochs: 2\n${extra}`;

  it('expects the spec seeds and selects the step size only when asked or trivial', () => {
    expect(aggregateOptionsFor(parseSweepSpec(text('select: { metric: mean, over: lr }\n', '[0.1, 0.01]')))).toEqual({ expectedSeeds: [0, 1, 2], select: 'best-mean' });
    expect(aggregateOptionsFor(parseSweepSpec(text('', '[0.1, 0.01]'))).select).toBe('none');
    expect(aggregateOptionsFor(parseSweepSpec(text('', '[0.1]'))).select).toBe('best-mean');
  });

  it('reports population std by default and sample std when the spec asks for it', () => {
    expect(aggregateOptionsFor(parseSweepSpec(text('', '[0.1]'))).std).toBeUndefined();
    const opts = aggregateOptionsFor(parseSweepSpec(text('report: { std: sample }\n', '[0.1]')));
    expect(opts.std).toBe('sample');
    const rows = [0.9, 0.92, 0.94].map((acc, seed) => outcome({ regime: 'relu', seed }, 'succeeded', acc));
    expect(aggregate(rows, opts).rows[0].cells.relu?.std).toBeCloseTo(2, 9); // sample std of 90, 92, 94 (%)
    expect(aggregate(rows).rows[0].cells.relu?.std).toBeCloseTo(Math.sqrt(8 / 3), 9);
    expect(() => parseSweepSpec(text('report: { std: bessel }\n', '[0.1]'))).toThrow(/report\.std/);
  });
});
