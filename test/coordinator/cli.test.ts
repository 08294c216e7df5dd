import crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as results } from '../../cli/commands/results.js';
import { run as status } from '../../cli/commands/status.js';
import { run as submit } from '../../cli/commands/submit.js';
import { run as watch } from '../../cli/commands/watch.js';
import type { TaskLease } from '../../gen/npf/v1/sweep.js';
import type { TrialSpec } from '../../science/types.js';
import { fixtureResult, startHarness, uploadArtifact, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = undefined;
});

function capture(): { out: string[] } {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
  return { out };
}

async function finishAll(h: Harness, wid: string): Promise<void> {
  for (;;) {
    const leases: TaskLease[] = await h.lease(wid, 32);
    if (!leases.length) return;
    for (const l of leases) {
      const spec = JSON.parse(l.specJson) as TrialSpec;
      const artifacts = [];
      if (spec.checkpoints?.best) {
        const a = await uploadArtifact(h, l, 'best', crypto.randomBytes(32));
        artifacts.push({ name: 'best', sha256: a.sha256, size: a.size, epoch: 1 });
      }
      await h.w('completeTask', { workerId: wid, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult(0.9)), artifacts });
    }
  }
}

describe('coordinator cli', () => {
  it('cli - submit, status, watch and results against a live coordinator', async () => {
    h = await startHarness();
    const conn = ['--coordinator', h.c.grpcAddress, '--token', h.token];
    const cap = capture();
    expect(await submit(['sweeps/quick.yaml', ...conn])).toBe(0);
    const m = /^submitted (sw-[0-9a-f]{12}) \(quick\): 15 trials, 0 already done, 15 to run$/.exec(cap.out[0]);
    expect(m).not.toBeNull();
    const sweepId = m![1];
    expect(await status(conn)).toBe(0);
    expect(cap.out.some((l) => l.startsWith(sweepId) && l.includes('running') && l.includes('0/15 done'))).toBe(true);
    const watching = watch([sweepId, '--from-start', ...conn]);
    const wid = await h.register();
    await finishAll(h, wid);
    expect(await watching).toBe(0);
    // Each trial by its label (regime, arch, optimiser, step size, seed), not its hash.
    const done = cap.out.filter((l) => /^\d\d:\d\d:\d\d {2}[a-z0-9-]+ fc [a-z]+ [0-9.e-]+ seed \d+ {2}succeeded: best test acc 90\.00% at epoch 1 in [0-9.]+s \(attempt 1\)$/.test(l));
    expect(done).toHaveLength(15);
    expect(new Set(done.map((l) => l.split('  ')[1])).size).toBe(15);
    expect(cap.out.some((l) => /^\d\d:\d\d:\d\d {2}sweep complete: 15 succeeded, 0 failed, 0 cancelled$/.test(l))).toBe(true);
    cap.out.length = 0;
    expect(await results([sweepId, '--format', 'csv', ...conn])).toBe(0);
    expect(cap.out.join('')).toMatch(/relu|ReLU/);
    cap.out.length = 0;
    expect(await status([sweepId, ...conn])).toBe(0);
    expect(cap.out[0]).toContain('15/15 done');
  });

  it('cli - clear errors: unreachable coordinator, wrong token, bad format', async () => {
    h = await startHarness();
    capture();
    await expect(status(['--coordinator', '127.0.0.1:1'])).rejects.toThrow(/^cannot reach coordinator at 127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    await expect(status(['--coordinator', h.c.grpcAddress, '--token', 'wrong'])).rejects.toThrow(
      `ListSweeps: the coordinator at ${h.c.grpcAddress} refused the call: invalid token: the coordinator refused the bearer token (UNAUTHENTICATED)`,
    );
    await expect(results(['sw-x', '--format', 'xls', '--coordinator', h.c.grpcAddress])).rejects.toThrow(/^npf results: --format expects one of .*, got 'xls'/);
    await expect(submit(['sweeps/nope.yaml', '--coordinator', h.c.grpcAddress])).rejects.toThrow('sweeps/nope.yaml: sweep spec: no such file');
  });
});
