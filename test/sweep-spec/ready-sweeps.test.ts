import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSweepFile } from '../../coordinator/sweep-spec/load-sweep-file.js';
import { expandSweep } from '../../coordinator/sweep-spec/expand-sweep.js';
import { SweepSpecError } from '../../coordinator/sweep-spec/errors.js';

const sweepsDir = fileURLToPath(new URL('../../sweeps/', import.meta.url));
const env = { NPF_CIFAR10_DIR: '/data/cifar-10-batches-bin' };

/** Trials each ready spec must expand to (regimes x stages x lrs x seeds, + parents). */
const expected: Record<string, number> = {
  'fc-mnist-sgd.yaml': 3 * 5 * 5,
  'fc-mnist-adam.yaml': 5 * 5,
  'vconv-cifar10-sgd.yaml': 3 * 5 * 5,
  'vconv-cifar10-adam.yaml': 5 * 5,
  'gconv-cifar10-sgd.yaml': 3 * 5 * 5,
  'gconv-cifar10-adam.yaml': 5 * 5,
  'stages.yaml': (1 + 7) * 5,
  'nu-t.yaml': 5,
  'ntk-split.yaml': 5,
  'quick.yaml': 5 * 3,
};

describe('spec - ready sweeps in sweeps/', () => {
  const files = readdirSync(sweepsDir).filter((f) => f.endsWith('.yaml'));

  it('has exactly the expected files', () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const f of Object.keys(expected)) {
    it(`${f} expands to ${expected[f]} trials`, async () => {
      const spec = await loadSweepFile(join(sweepsDir, f), { env, displayName: `sweeps/${f}` });
      expect(spec.name).toBe(f.replace(/\.yaml$/, ''));
      const tasks = expandSweep(spec);
      expect(tasks).toHaveLength(expected[f]);
      for (const t of tasks) {
        if (t.key.regime === 'flnpf' || (t.key.regime === 'stage' && (t.key.stage ?? 0) > 0)) {
          const parent = tasks.find((p) => p.taskId === t.parent?.taskId);
          expect(parent?.key.regime).toBe('relu');
          expect(parent?.key.seed).toBe(t.key.seed);
        }
        if (t.spec.dataset.name === 'cifar10') expect(t.spec.dataset.dir).toBe(env.NPF_CIFAR10_DIR);
      }
    });
  }

  it('stages.yaml: ReLU 60 epochs writing best@10..60, stages 80 epochs', async () => {
    const tasks = expandSweep(await loadSweepFile(join(sweepsDir, 'stages.yaml'), { env }));
    const relu = tasks.filter((t) => t.key.regime === 'relu');
    expect(relu).toHaveLength(5);
    for (const r of relu) {
      expect(r.spec.epochs).toBe(60);
      expect(r.spec.checkpoints).toEqual({ bestAtEpochs: [10, 20, 30, 40, 50, 60] });
      expect(r.spec.arch).toEqual({ kind: 'gconv' });
      expect(r.spec.optimizer).toEqual({ name: 'adam', lr: 3e-4 });
    }
    expect(tasks.filter((t) => t.key.regime === 'stage').every((t) => t.spec.epochs === 80)).toBe(true);
  });

  it("nu-t.yaml matches the protocol: the paper's w = 100, d = 5 is 4 hidden layers (d counts the output layer)", async () => {
    const [t] = expandSweep(await loadSweepFile(join(sweepsDir, 'nu-t.yaml'), { env }));
    expect(t.spec).toMatchObject({
      dataset: { name: 'binary-mnist' },
      arch: { kind: 'fc', width: 100, depth: 4, bias: false },
      init: 'sign-sqrt2',
      loss: 'squared',
      optimizer: { name: 'rmsprop', lr: 1e-4 },
      batchSize: 64,
      epochs: 50,
      measure: { npk: { every: 2, examplesPerClass: 100 } },
    });
  });

  it('a CIFAR spec without NPF_CIFAR10_DIR is refused at the dir field', async () => {
    const err = await loadSweepFile(join(sweepsDir, 'gconv-cifar10-adam.yaml'), { env: {}, displayName: 'sweeps/gconv-cifar10-adam.yaml' }).catch((e) => e);
    expect(err).toBeInstanceOf(SweepSpecError);
    expect(err.message).toMatch(/^sweeps\/gconv-cifar10-adam\.yaml:\d+:\d+: axes\.datasets\[0\]\.dir: environment variable NPF_CIFAR10_DIR is not set/);
    const ok = await loadSweepFile(join(sweepsDir, 'gconv-cifar10-adam.yaml'), { env: {}, set: ['axes.datasets[0].dir=/d'] });
    expect(ok.axes.datasets[0].dir).toBe('/d');
  });

  it('a missing file is one clear error', async () => {
    await expect(loadSweepFile(join(sweepsDir, 'nope.yaml'), { displayName: 'sweeps/nope.yaml' })).rejects.toThrow('sweeps/nope.yaml: sweep spec: no such file');
  });
});
