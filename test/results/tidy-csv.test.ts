/**
 * The tidy tables (trials.csv, epochs.csv): each is one table with one header, parsed here by a
 * strict RFC 4180 reader (every row as wide as the header, quotes closed, nothing after a closing
 * quote), and, where python3 with pandas is installed, loaded by one pandas.read_csv.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EPOCHS_CSV_HEADER, TRIALS_CSV_HEADER, formatEpochsCsv, formatTrialsCsv } from '../../coordinator/results/format-tidy-csv.js';
import { renderReport } from '../../coordinator/results/render-report.js';
import type { TrialSpec } from '../../science/types.js';
import { parseCsvStrict } from './csv-strict.js';
import { outcome } from './fixtures.js';

const spec = (seed: number, regime: TrialSpec['regime']): TrialSpec => ({
  dataset: { name: 'mnist', trainSubset: { first: 1000 }, testSubset: { perClass: 10 } },
  arch: { kind: 'fc', width: 16, depth: 2 },
  regime,
  gate: { beta: 4, eps: 0.1 },
  optimizer: { name: 'adam', lr: 3e-4 },
  loss: 'cross-entropy',
  init: 'glorot-uniform',
  epochs: 2,
  batchSize: 32,
  seed,
  backend: 'wasm',
});

const epochs = (accs: number[]) => accs.map((a, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), testLoss: 1.5 / (i + 1), testAccuracy: a, examplesPerSec: 1234.56, durationMs: 2500 }));

function sample() {
  const g = { dataset: 'mnist "small", first 1000', arch: 'fc', optimizer: 'adam', lr: 3e-4 };
  const a = outcome({ ...g, regime: 'relu', seed: 0 }, 'succeeded', 0.91, { epochs: epochs([0.9, 0.91]), bestEpoch: 2, wallMs: 5123 });
  const b = outcome({ ...g, regime: 'stage', stage: 2, seed: 1 }, 'diverged', 0.5, { epochs: epochs([0.5]), bestEpoch: 1, finalTestAccuracy: 0.5 });
  const c = outcome({ ...g, regime: 'dnpfl', seed: 0 }, 'cancelled');
  const d = outcome({ ...g, regime: 'flnpf', seed: 0 }, 'pending');
  a.spec = spec(0, 'relu');
  b.spec = spec(1, 'stage');
  c.spec = spec(0, 'dnpfl');
  return [a, b, c, d];
}

describe('results - tidy tables', () => {
  it('trials.csv: one row per trial with its config, status, backend, best/final accuracy, best epoch and wall time', () => {
    const os = sample();
    const rows = parseCsvStrict(formatTrialsCsv(os));
    expect(rows[0]).toEqual([...TRIALS_CSV_HEADER]);
    expect(rows).toHaveLength(1 + os.length);
    const rec = rows.slice(1).map((r) => Object.fromEntries(rows[0].map((h, i) => [h, r[i]])));
    expect(rec[0]).toMatchObject({
      trial_id: os[0].taskId,
      dataset: 'mnist "small", first 1000',
      arch: 'fc',
      width: '16',
      depth: '2',
      optimizer: 'adam',
      lr: '0.0003',
      regime: 'relu',
      stage: '',
      seed: '0',
      epochs: '2',
      batch_size: '32',
      train_first: '1000',
      test_per_class: '10',
      status: 'succeeded',
      backend: 'cpu',
      best_test_accuracy_pct: '91',
      final_test_accuracy_pct: '91',
      best_epoch: '2',
      epochs_run: '2',
      wall_s: '5.123',
    });
    expect(rec[1]).toMatchObject({ regime: 'stage', stage: '2', status: 'diverged', diverged_at_epoch: '3' });
    expect(rec[2]).toMatchObject({ regime: 'dnpfl', status: 'cancelled', best_test_accuracy_pct: '', backend: '' });
    // No spec known (an outcome without one): the config columns of the spec are empty, the key's are there.
    expect(rec[3]).toMatchObject({ regime: 'flnpf', status: 'pending', width: '', epochs: '' });
  });

  it('epochs.csv: one row per trial and epoch, only for trials with a result', () => {
    const os = sample();
    const rows = parseCsvStrict(formatEpochsCsv(os));
    expect(rows[0]).toEqual([...EPOCHS_CSV_HEADER]);
    expect(rows.slice(1)).toEqual([
      [os[0].taskId, '1', '1', '1.5', '90', '1234.6', '2.5'],
      [os[0].taskId, '2', '0.5', '0.75', '91', '1234.6', '2.5'],
      [os[1].taskId, '1', '1', '1.5', '50', '1234.6', '2.5'],
    ]);
  });

  it('renderReport gives them as formats trials-csv and epochs-csv; an empty sweep gives the header alone', () => {
    const os = sample();
    expect(renderReport(os, 'trials-csv')).toBe(formatTrialsCsv(os));
    expect(renderReport(os, 'epochs-csv')).toBe(formatEpochsCsv(os));
    expect(parseCsvStrict(renderReport([], 'epochs-csv'))).toEqual([[...EPOCHS_CSV_HEADER]]);
    expect(() => parseCsvStrict('a,b\n1,2,3\n')).toThrow('row 1 has 3 fields, the header 2');
  });

  // The first python with pandas: NPF_PYTHON, the one on PATH, the system's (Debian's python3-pandas).
  const python = [process.env.NPF_PYTHON, 'python3', '/usr/bin/python3'].find((p) => p && spawnSync(p, ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0);
  it.skipIf(!python)('pandas.read_csv loads each table in one call (python3 with pandas installed here)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npf-tidy-'));
    const os = sample();
    writeFileSync(join(dir, 'trials.csv'), formatTrialsCsv(os));
    writeFileSync(join(dir, 'epochs.csv'), formatEpochsCsv(os));
    const py = `
import pandas as pd, json, sys
t = pd.read_csv(sys.argv[1] + '/trials.csv')
e = pd.read_csv(sys.argv[1] + '/epochs.csv')
m = e.merge(t, on='trial_id')
print(json.dumps({'t': list(t.shape), 'e': list(e.shape), 'm': len(m), 'acc': str(t['best_test_accuracy_pct'].dtype), 'best': float(t['best_test_accuracy_pct'].max()), 'ds': t['dataset'][0]}))
`;
    const r = spawnSync(python!, ['-c', py, dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ t: [4, TRIALS_CSV_HEADER.length], e: [3, EPOCHS_CSV_HEADER.length], m: 3, acc: 'float64', best: 91, ds: 'mnist "small", first 1000' });
  });
});
