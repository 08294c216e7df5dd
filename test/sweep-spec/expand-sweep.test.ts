import { planRegime } from '../../science/regimes.js';
import { describe, expect, it } from 'vitest';
import { expandSweep, countTrials } from '../../coordinator/sweep-spec/expand-sweep.js';
import { parseSweepSpec } from '../../coordinator/sweep-spec/parse-sweep.js';
import { SweepTooLargeError } from '../../coordinator/sweep-spec/errors.js';
import { canonicalJson } from '../../coordinator/sweep-spec/canonical-json.js';
import { taskIdOf } from '../../coordinator/sweep-spec/task-id.js';
import type { ExpandedTask } from '../../coordinator/sweep-types.js';

function spec(body: string) {
  return parseSweepSpec(`name: t\n${body}`, { file: 't.yaml' });
}

const table2 = `axes:
  datasets: [{ name: mnist }]
  archs: [{ kind: fc, width: 16, depth: 2 }]
  optimizers: [{ name: sgd, lrs: [0.1, 0.01] }]
  regimes: [frnpf-ii, frnpf-di, dnpfl, flnpf, relu]
  seeds: [0, 1, 2]
epochs: { default: 4, flnpf: 6 }
`;

const byKey = (tasks: ExpandedTask[], pred: (t: ExpandedTask) => boolean) => tasks.filter(pred);

describe('spec - expansion', () => {
  it('is the cartesian product, ReLU parents first with higher priority', () => {
    const tasks = expandSweep(spec(table2));
    expect(tasks).toHaveLength(2 * 5 * 3);
    const relu = byKey(tasks, (t) => t.key.regime === 'relu');
    expect(relu).toHaveLength(6);
    expect(tasks.slice(0, 6).every((t) => t.key.regime === 'relu')).toBe(true);
    expect(relu.every((t) => t.priority > 0)).toBe(true);
    expect(byKey(tasks, (t) => t.key.regime !== 'relu').every((t) => t.priority < relu[0].priority)).toBe(true);
    expect(new Set(tasks.map((t) => t.taskId)).size).toBe(tasks.length);
  });

  it('wires flnpf to the ReLU trial with the same dataset/arch/optimizer/lr/seed and its best checkpoint', () => {
    const tasks = expandSweep(spec(table2));
    const flnpf = byKey(tasks, (t) => t.key.regime === 'flnpf');
    expect(flnpf).toHaveLength(6);
    for (const t of flnpf) {
      const parent = tasks.find((p) => p.taskId === t.parent?.taskId);
      expect(parent).toBeDefined();
      expect(parent!.key).toEqual({ ...t.key, regime: 'relu' });
      expect(t.parent!.checkpoint).toBe('best');
      expect(parent!.spec.checkpoints).toEqual({ best: true });
      expect(parent!.spec.epochs).toBe(4);
      expect(t.spec.epochs).toBe(6);
      expect(Object.keys(t.spec)).not.toContain('gatesFrom'); // the parent checkpoint travels beside the spec
      expect(t.spec.regime).toBe('flnpf');
    }
    for (const r of ['frnpf-ii', 'frnpf-di', 'dnpfl'] as const) {
      expect(byKey(tasks, (t) => t.key.regime === r).every((t) => t.parent === undefined)).toBe(true);
    }
  });

  it('adds a missing ReLU parent, requesting the stage checkpoints', () => {
    const s = spec(`axes:
  datasets: [{ name: mnist }]
  archs: [{ kind: fc }]
  optimizers: [{ name: adam, lrs: [0.0003] }]
  regimes: [stage]
  stages: [0, 1, 3, 6]
  seeds: [7]
epochs: { relu: 60, stage: 80 }
`);
    const tasks = expandSweep(s);
    expect(tasks).toHaveLength(5);
    const [parent, ...rest] = tasks;
    expect(parent.key).toEqual({ dataset: 'mnist', arch: 'fc', optimizer: 'adam', lr: 0.0003, regime: 'relu', seed: 7 });
    expect(parent.spec.regime).toBe('relu');
    expect(parent.spec.epochs).toBe(60);
    expect(parent.spec.checkpoints).toEqual({ bestAtEpochs: [10, 30, 60] });
    const stage0 = rest.find((t) => t.key.stage === 0)!;
    expect(stage0.parent).toBeUndefined();
    expect(stage0.spec).toMatchObject({ regime: 'stage', stage: 0, epochs: 80 });
    for (const k of [1, 3, 6]) {
      const t = rest.find((x) => x.key.stage === k)!;
      expect(t.parent).toEqual({ taskId: parent.taskId, checkpoint: `best@${k * 10}` });
      expect(t.spec).toMatchObject({ regime: 'stage', stage: k, epochs: 80 });
    }
  });

  it('honours checkpointEvery', () => {
    const tasks = expandSweep(
      spec(`axes:
  datasets: [{ name: mnist }]
  archs: [{ kind: fc }]
  optimizers: [{ name: adam, lrs: [0.001] }]
  regimes: [stage, flnpf]
  stages: [2]
  seedCount: 1
epochs: 10
checkpointEvery: 5
`),
    );
    expect(tasks[0].spec.checkpoints).toEqual({ best: true, bestAtEpochs: [10] });
    const stage = tasks.find((t) => t.key.regime === 'stage')!;
    expect(stage.parent!.checkpoint).toBe('best@10');
    // The trial itself checks the checkpoint it is given against the same interval.
    expect(stage.spec.stageEvery).toBe(5);
    expect(planRegime('stage', stage.spec.stage, stage.spec.stageEvery).parentCheckpoint?.name).toBe(stage.parent!.checkpoint);
  });

  it('merges duplicates within one sweep', () => {
    const tasks = expandSweep(
      spec(`axes:
  datasets: [{ name: mnist }]
  archs: [{ kind: fc }]
  optimizers: [{ name: sgd, lrs: [0.1, 0.1] }]
  regimes: [relu, relu, dnpfl]
  seeds: [1, 1, 2]
epochs: 3
`),
    );
    expect(tasks).toHaveLength(4);
  });

  it('applies resources with the per-arch override, and measures only where meaningful', () => {
    const tasks = expandSweep(
      spec(`axes:
  datasets: [{ name: mnist }]
  archs: [{ kind: fc }, { kind: gconv, resources: { gpu: 0.25, memoryMb: 4096 } }]
  optimizers: [{ name: sgd, lrs: [0.01] }]
  regimes: [relu, dnpfl]
  seedCount: 1
epochs: 3
resources: { cpu: 2 }
measure: { ntkSplit: { every: 5, examplesPerClass: 20 }, npk: { every: 2, examplesPerClass: 10 } }
`),
    );
    expect(tasks.find((t) => t.key.arch === 'fc')!.resources).toEqual({ cpu: 2, gpu: 0, memoryMb: 2048 });
    expect(tasks.find((t) => t.key.arch === 'gconv')!.resources).toEqual({ cpu: 2, gpu: 0.25, memoryMb: 4096 });
    const relu = tasks.find((t) => t.key.regime === 'relu')!;
    const dnpfl = tasks.find((t) => t.key.regime === 'dnpfl')!;
    expect(relu.spec.measure).toEqual({ npk: { every: 2, examplesPerClass: 10 } });
    expect(dnpfl.spec.measure).toEqual({ npk: { every: 2, examplesPerClass: 10 }, ntkSplit: { every: 5, examplesPerClass: 20 } });
  });

  it('uses labels in keys so two variants of one dataset/arch stay apart', () => {
    const tasks = expandSweep(
      spec(`axes:
  datasets: [{ name: mnist, label: mnist-1k, trainSubset: { first: 1000 } }, { name: mnist }]
  archs: [{ kind: fc, label: fc-w64, width: 64 }, { kind: fc }]
  optimizers: [{ name: sgd, lrs: [0.01] }]
  regimes: [relu]
  seedCount: 1
epochs: 3
`),
    );
    expect(tasks.map((t) => `${t.key.dataset}/${t.key.arch}`)).toEqual(['mnist-1k/fc-w64', 'mnist-1k/fc', 'mnist/fc-w64', 'mnist/fc']);
    expect(tasks[0].spec.dataset).toEqual({ name: 'mnist', trainSubset: { first: 1000 } });
    expect(tasks[0].spec.arch).toEqual({ kind: 'fc', width: 64, depth: 5, bias: true });
  });
});

describe('spec - task ids', () => {
  it('are the sha256 of canonical { spec, parent }, stable across key order and re-expansion', () => {
    const a = expandSweep(spec(table2));
    const b = expandSweep(spec(table2.replace('seeds: [0, 1, 2]', 'seeds: [2, 1, 0]')));
    expect(new Set(b.map((t) => t.taskId))).toEqual(new Set(a.map((t) => t.taskId)));
    for (const t of a) expect(t.taskId).toBe(taskIdOf(t.spec, t.parent));
    expect(a[0].taskId).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: 2 }] })).toBe('{"a":[1,{"c":2}],"b":1}');
  });

  it('change when a seed changes, and a child id follows its parent', () => {
    const a = expandSweep(spec(table2));
    const b = expandSweep(spec(table2.replace('seeds: [0, 1, 2]', 'seeds: [0, 1, 3]')));
    const ids = (ts: ExpandedTask[], seed: number) => ts.filter((t) => t.key.seed === seed).map((t) => t.taskId).sort();
    expect(ids(a, 0)).toEqual(ids(b, 0));
    expect(ids(b, 3).some((id) => ids(a, 2).includes(id))).toBe(false);
    // Same leaf spec, different parent checkpoint set -> the FLNPF id changes with its parent.
    const c = expandSweep(spec(table2.replace('epochs: { default: 4, flnpf: 6 }', 'epochs: { default: 5, flnpf: 6 }')));
    const fl = (ts: ExpandedTask[]) => ts.find((t) => t.key.regime === 'flnpf' && t.key.seed === 0 && t.key.lr === 0.1)!;
    expect(fl(c).spec).toEqual(fl(a).spec);
    expect(fl(c).taskId).not.toBe(fl(a).taskId);
  });
});

describe('spec - refusals before anything runs', () => {
  it('refuses an expansion over limits.maxTrials, saying how many and which axes multiply', () => {
    const s = spec(`axes:
  datasets: [{ name: mnist }, { name: fashion-mnist }]
  archs: [{ kind: fc }]
  optimizers: [{ name: sgd, lrs: [0.1, 0.01, 0.001] }, { name: adam, lrs: [0.0003] }]
  regimes: [flnpf, dnpfl]
  seedCount: 10
epochs: 3
limits: { maxTrials: 200 }
`);
    expect(countTrials(s).total).toBe(2 * 4 * 2 * 10 + 2 * 4 * 10);
    let err: unknown;
    try {
      expandSweep(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SweepTooLargeError);
    expect((err as Error).message).toBe(
      't.yaml: the sweep would expand to 240 trials, more than limits.maxTrials 200: datasets 2 x archs 1 x step sizes 4 (sgd: 3, adam: 1) x regimes 2 x seeds 10 = 160 + 80 auto-added ReLU parents (shrink an axis or raise limits.maxTrials)',
    );
    expect(expandSweep({ ...s, limits: { maxTrials: 240 } })).toHaveLength(240);
  });
});
