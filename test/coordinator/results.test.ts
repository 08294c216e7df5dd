import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskLease } from '../../gen/npf/v1/sweep.js';
import type { TrialSpec } from '../../science/types.js';
import { fixtureResult, refused, startHarness, uploadArtifact, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const QUICK = fs.readFileSync(new URL('../../sweeps/quick.yaml', import.meta.url), 'utf8');
const ACC: Record<string, number> = { relu: 0.9, 'frnpf-ii': 0.8, 'frnpf-di': 0.82, dnpfl: 0.85, flnpf: 0.88 };

/** Play a worker that finishes every trial at once with a per-regime accuracy (+ seed/1000). */
async function drain(h: Harness, wid: string): Promise<number> {
  let n = 0;
  for (;;) {
    const leases: TaskLease[] = await h.lease(wid, 16);
    if (leases.length === 0) return n;
    for (const l of leases) {
      const spec = JSON.parse(l.specJson) as TrialSpec;
      const artifacts = [];
      if (spec.checkpoints?.best) {
        const bytes = crypto.randomBytes(64);
        const a = await uploadArtifact(h, l, 'best', bytes);
        artifacts.push({ name: 'best', sha256: a.sha256, size: a.size, epoch: 1 });
      }
      const acc = ACC[spec.regime] + spec.seed / 1000;
      await h.w('completeTask', { workerId: wid, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult(acc)), artifacts });
      n++;
    }
  }
}

describe('coordinator results', () => {
  it('results - GetResults renders the stored TrialResults through the results module in every format', async () => {
    h = await startHarness();
    const { sweepId } = await h.s<{ sweepId: string }>('submitSweep', { specYaml: QUICK, fileName: 'sweeps/quick.yaml', overrides: [] });
    const partial = await h.s<{ table: string; complete: boolean }>('getResults', { sweepId, format: 'markdown' });
    expect(partial.complete).toBe(false);
    const wid = await h.register({ cpu: 4, gpu: 0, memoryMb: 16_000 });
    expect(await drain(h, wid)).toBe(15);
    expect(h.c.core.getSweep(sweepId)).toMatchObject({ state: 'complete', cellsComplete: 5, cellsTotal: 5 });
    const md = await h.s<{ table: string; complete: boolean }>('getResults', { sweepId, format: 'markdown' });
    expect(md.complete).toBe(true);
    const json = JSON.parse((await h.s<{ table: string }>('getResults', { sweepId, format: 'json' })).table);
    const cells = json.table2.rows.flatMap((r: { cells: Record<string, { mean: number; n: number }> }) => Object.entries(r.cells));
    const relu = cells.find(([k]: [string]) => k === 'relu')[1];
    expect(relu.n).toBe(3);
    // Seeds 0..2 (or 1..3): mean is 0.9 + mean(seed)/1000 in [0, 1] or percent.
    const m = relu.mean > 1 ? relu.mean / 100 : relu.mean;
    expect(m).toBeGreaterThan(0.9);
    expect(m).toBeLessThan(0.904);
    const csv = (await h.s<{ table: string }>('getResults', { sweepId, format: 'csv' })).table;
    expect(csv.split('\n')[0]).toMatch(/,/);
    const tex = (await h.s<{ table: string }>('getResults', { sweepId, format: 'latex' })).table;
    expect(tex).toContain('\\begin{tabular}');
    expect(md.table).toContain('|');
    const bad = await refused(h.s('getResults', { sweepId, format: 'xlsx' }));
    expect(bad).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "unknown results format 'xlsx' (expected md (markdown), csv, json, latex (tex), stages, trials or epochs)" });
  });

  it('results - aggregation options are resolved when the sweep is submitted and stored; an older sweep without them renders from its spec', async () => {
    const lines: string[] = [];
    h = await startHarness({ env: { NPF_WHO: 'tester' }, log: (l) => lines.push(l) });
    const spec = QUICK.replace(/^description: .*$/m, 'description: "quick, run by ${NPF_WHO}"');
    const { sweepId } = await h.s<{ sweepId: string }>('submitSweep', { specYaml: spec, fileName: 'quick.yaml', overrides: ['report.std=sample'] });
    const stored = { expectedSeeds: [0, 1, 2], select: 'best-mean', std: 'sample' };
    expect(h.c.core.aggregationOf(sweepId)).toEqual(stored);
    await drain(h, await h.register({ cpu: 4, gpu: 0, memoryMb: 16_000 }));
    const table = async () => (await h!.s<{ table: string }>('getResults', { sweepId, format: 'markdown' })).table;
    const sample = await table();

    // The coordinator's environment no longer has the variable: the stored options still apply.
    await h.restart({ env: {}, log: (l) => lines.push(l) });
    expect(h.c.core.aggregationOf(sweepId)).toEqual(stored);
    expect(await table()).toBe(sample);

    // A sweep stored before the options were (aggregation_json NULL) derives them from its spec...
    const db = new Database(path.join(h.dir, 'npf.db'));
    db.prepare('UPDATE sweeps SET aggregation_json = NULL WHERE sweep_id = ?').run(sweepId);
    db.close();
    expect(h.c.core.aggregationOf(sweepId)).toBeUndefined();
    // ...which here no longer parses: default aggregation (population std), and the log says why.
    const fallback = await table();
    expect(fallback).not.toBe(sample);
    expect(lines.some((l) => l.startsWith(`results of ${sweepId}: default aggregation (its stored spec no longer parses: quick.yaml:`))).toBe(true);
    await h.restart({ env: { NPF_WHO: 'tester' } });
    expect(await table()).toBe(sample);
  });
});
