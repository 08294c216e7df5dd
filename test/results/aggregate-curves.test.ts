import { describe, expect, it } from 'vitest';
import { aggregateNpkCurves, aggregateNtkSplitCurves } from '../../coordinator/results/aggregate-curves.js';
import { aggregateStages } from '../../coordinator/results/aggregate-stages.js';
import { parseStagesCsv, parseTable2Csv } from '../../coordinator/results/paper-reference.js';
import { outcome } from './fixtures.js';
import type { NpkPoint } from '../../science/types.js';

const npkKey = { dataset: 'binary-mnist', arch: 'fc', optimizer: 'rmsprop', lr: 1e-4, regime: 'relu' };
type Method = NpkPoint['method'];
const npk = (nus: Array<number | null>, methods: Record<number, Method> = {}): NpkPoint[] =>
  nus.map((nu, i) => ({ epoch: i * 2, nu, conditionNumber: 10 * (i + 1), method: methods[i] ?? (nu === null ? 'undefined' : 'full-rank') }));

describe('results - nu_t curves', () => {
  it('mean +- std of nu per epoch over finished seeds', () => {
    const os = [
      outcome({ ...npkKey, seed: 0 }, 'succeeded', 0.99, { npk: npk([100, 80, 60]) }),
      outcome({ ...npkKey, seed: 1 }, 'succeeded', 0.99, { npk: npk([120, 90], { 1: 'pseudo-inverse' }) }),
      outcome({ ...npkKey, seed: 2 }, 'failed'),
      outcome({ ...npkKey, seed: 3 }, 'diverged', 0.5, { npk: npk([1, 1, 1]) }),
    ];
    const [curve] = aggregateNpkCurves(os);
    expect(curve.key).toEqual(npkKey);
    expect(curve.seeds).toEqual([0, 1]);
    expect(curve.points.map((p) => p.epoch)).toEqual([0, 2, 4]);
    expect(curve.points[0].nu).toEqual({ mean: 110, std: 10, n: 2 });
    expect(curve.points[1].nu).toEqual({ mean: 85, std: 5, n: 2 });
    expect(curve.points[1].pseudoInverseSeeds).toEqual([1]);
    expect(curve.points[2].nu).toEqual({ mean: 60, std: 0, n: 1 });
    expect(curve.points[2].measured).toBe(1);
    expect(aggregateNpkCurves(os, { std: 'sample' })[0].points[2].nu.std).toBeNull();
  });

  it('an undefined nu, or a ridge value of an older result, is counted but never averaged in', () => {
    const os = [
      outcome({ ...npkKey, seed: 0 }, 'succeeded', 0.99, { npk: npk([100, null, 60]) }),
      outcome({ ...npkKey, seed: 1 }, 'succeeded', 0.99, { npk: npk([4e10, null, 80], { 0: 'ridge' }) }),
      outcome({ ...npkKey, seed: 2 }, 'succeeded', 0.99, { npk: npk([200, 50, 70], { 0: 'cholesky' }) }),
    ];
    const [curve] = aggregateNpkCurves(os);
    expect(curve.points[0].nu).toEqual({ mean: 150, std: 50, n: 2 });
    expect(curve.points[0].measured).toBe(3);
    expect(curve.points[0].undefinedSeeds).toEqual([1]);
    expect(curve.points[1].nu).toEqual({ mean: 50, std: 0, n: 1 });
    expect(curve.points[1].undefinedSeeds).toEqual([0, 1]);
    expect(curve.points[2].nu.n).toBe(3);
    expect(curve.points[2].undefinedSeeds).toEqual([]);
    // No defined seed at an epoch: n = 0 and no mean, not a mean of undefined values.
    const [none] = aggregateNpkCurves([outcome({ ...npkKey, seed: 0 }, 'succeeded', 0.99, { npk: npk([null]) })]);
    expect(none.points[0].nu.n).toBe(0);
    expect(Number.isNaN(none.points[0].nu.mean)).toBe(true);
  });
});

describe('results - NTK split curves', () => {
  it('mean +- std of trace and Frobenius norm of K_v and K_phi per epoch', () => {
    const key = { regime: 'dnpfl', lr: 0.01 };
    const pt = (epoch: number, v: number) => ({ epoch, output: 'true-class-logit', valueTrace: v, valueFrobenius: v / 2, featureTrace: 2 * v, featureFrobenius: v });
    const os = [
      outcome({ ...key, seed: 0 }, 'succeeded', 0.97, { ntkSplit: [pt(0, 1), pt(5, 3)] }),
      outcome({ ...key, seed: 1 }, 'succeeded', 0.97, { ntkSplit: [pt(0, 3), pt(5, 5)] }),
      outcome({ regime: 'relu', seed: 0 }, 'succeeded', 0.97),
    ];
    const curves = aggregateNtkSplitCurves(os);
    expect(curves).toHaveLength(1);
    const [p0, p5] = curves[0].points;
    expect(p0.valueTrace).toEqual({ mean: 2, std: 1, n: 2 });
    expect(p0.featureTrace).toEqual({ mean: 4, std: 2, n: 2 });
    expect(p5.valueFrobenius).toEqual({ mean: 2, std: 0.5, n: 2 });
    expect(p5.outputs).toEqual(['true-class-logit']);
  });
});

describe('results - stages', () => {
  const paper = {
    table2: parseTable2Csv('source,arch,optimizer,dataset,regime,mean,std\npaper,GCONV,Adam,CIFAR-10,ReLU,80.32,0.13\n'),
    stages: parseStagesCsv('stage,flnpf_mean,exact\n0,67.09,yes\n3,77.0,read-off\n'),
  };
  const g = { dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4 };

  it('per stage mean +- std, ReLU reference, and the paper only for the paper setting', () => {
    const os = [
      outcome({ ...g, regime: 'stage', stage: 3, seed: 0 }, 'succeeded', 0.76),
      outcome({ ...g, regime: 'stage', stage: 3, seed: 1 }, 'succeeded', 0.78),
      outcome({ ...g, regime: 'stage', stage: 0, seed: 0 }, 'succeeded', 0.67),
      outcome({ ...g, regime: 'stage', stage: 0, seed: 1 }, 'pending'),
      outcome({ ...g, regime: 'relu', seed: 0 }, 'succeeded', 0.8),
      outcome({ ...g, arch: 'fc', regime: 'stage', stage: 0, seed: 0 }, 'succeeded', 0.9),
      outcome({ ...g, arch: 'vconv', regime: 'relu', seed: 0 }, 'succeeded', 0.7),
    ];
    const t = aggregateStages(os, { paper });
    expect(t.groups.map((x) => x.arch)).toEqual(['fc', 'gconv']);
    const gc = t.groups[1];
    expect(gc.stages.map((s) => s.stage)).toEqual([0, 3]);
    expect(gc.stages[1].mean).toBeCloseTo(77, 10);
    expect(gc.stages[1].std).toBeCloseTo(1, 10);
    expect(gc.stages[1].paper).toEqual({ mean: 77, exact: false });
    expect(gc.stages[0]).toMatchObject({ n: 1, missingSeeds: [1], pending: 1 });
    expect(gc.relu?.mean).toBeCloseTo(80, 10);
    expect(gc.paperLines).toEqual({ cntk: 77.43, relu: 80.32 });
    expect(t.groups[0].stages[0].paper).toBeUndefined();
    expect(t.groups[0].paperLines).toBeUndefined();
  });
});

describe('results - paper reference files', () => {
  it('a malformed CSV is one clear error naming file and line', () => {
    expect(() => parseTable2Csv('source,arch,optimizer,dataset,regime,mean,std\npaper,FC,SGD,MNIST,ReLU,x,0.1\n', 'table2.csv')).toThrow(
      "table2.csv:2: mean: not a number 'x'",
    );
    expect(() => parseStagesCsv('stage,mean\n', 'stages.csv')).toThrow("stages.csv:1: missing column 'flnpf_mean'");
  });
});
