/**
 * The worker's drain path (worker/drain-budget.ts): its length, the drain grace that fits a
 * termination grace period with the margin, and the refusals of flags that do not fit.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../common/errors.js';
import { DEFAULT_KILL_GRACE_MS, DRAIN_MARGIN_MS, drainGraceFor, drainPathMs, minTerminationGraceS, resolveDrainGraceMs } from '../../worker/drain-budget.js';
import { resolveWorkerOptions } from '../../worker/worker-options.js';
import { NPF, ROOT } from '../e2e/harness.js';

describe('worker - drain budget', () => {
  it('worker - the drain path is stop leasing + heartbeat + grace + kill grace + hand-back', () => {
    expect(drainPathMs(25_000, 3_000)).toBe(1_000 + 2_000 + 25_000 + 3_000 + 10_000);
    // The old manifests: 25 s of grace under a 30 s termination grace period did not fit.
    expect(drainPathMs(25_000) + DRAIN_MARGIN_MS).toBeGreaterThan(30_000);
    expect(minTerminationGraceS(25_000)).toBe(46);
  });

  it('worker - the derived drain grace fits the termination grace with the margin, exactly', () => {
    for (const t of [30_000, 60_000, 90_000]) {
      const g = drainGraceFor(t);
      expect(drainPathMs(g) + DRAIN_MARGIN_MS).toBe(t);
    }
    expect(drainGraceFor(60_000)).toBe(39_000);
    expect(resolveDrainGraceMs({ terminationGraceMs: 60_000 })).toBe(39_000);
    expect(resolveDrainGraceMs({ terminationGraceMs: 60_000, killGraceMs: 10_000 })).toBe(32_000);
  });

  it('worker - flags: drain grace alone passes through; both are checked; a too-short termination grace is refused', () => {
    expect(resolveDrainGraceMs({})).toBeUndefined();
    expect(resolveDrainGraceMs({ drainGraceMs: 25_000 })).toBe(25_000);
    expect(resolveDrainGraceMs({ drainGraceMs: 20_000, terminationGraceMs: 60_000 })).toBe(20_000);
    expect(() => resolveDrainGraceMs({ drainGraceMs: 25_000, terminationGraceMs: 30_000 })).toThrow(
      '--drain-grace-s 25 does not fit --termination-grace-s 30: the drain can take 41 s plus a 5 s margin; give a termination grace of at least 46 s or drop --drain-grace-s',
    );
    expect(() => resolveDrainGraceMs({ terminationGraceMs: 20_000 })).toThrow(InvalidInputError);
    expect(() => resolveDrainGraceMs({ terminationGraceMs: 20_000 })).toThrow(/give at least 22/);
    expect(resolveDrainGraceMs({ terminationGraceMs: 22_000 })).toBe(1_000);
  });

  it('worker - the worker default kill grace is the one the budget assumes; trial children do not inherit NPF_TOKEN', () => {
    const before = process.env.NPF_TOKEN;
    process.env.NPF_TOKEN = 'secret';
    try {
      const o = resolveWorkerOptions({ coordinator: 'c:1', workDir: '/tmp/x' });
      expect(o.killGraceMs).toBe(DEFAULT_KILL_GRACE_MS);
      expect(o.childEnv.NPF_TOKEN).toBeUndefined();
      expect(o.childEnv.PATH).toBe(process.env.PATH);
    } finally {
      if (before === undefined) delete process.env.NPF_TOKEN;
      else process.env.NPF_TOKEN = before;
    }
  });
});

describe('worker - lifecycle flags of npf worker', () => {
  const npfWorker = (...args: string[]) => spawnSync(process.execPath, [NPF, 'worker', '--coordinator', '127.0.0.1:1', '--http', 'off', '--work-dir', join(ROOT, '.npf-never'), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('worker - npf worker refuses a drain grace that does not fit the termination grace, and headroom larger than the memory', () => {
    const tooShort = npfWorker('--termination-grace-s', '30', '--drain-grace-s', '25');
    expect(tooShort.status).toBe(2);
    expect(tooShort.stderr).toContain('npf worker: --drain-grace-s 25 does not fit --termination-grace-s 30');
    const headroom = npfWorker('--memory-mb', '1024', '--memory-headroom-mb', '1024');
    expect(headroom.status).toBe(2);
    expect(headroom.stderr).toContain('npf worker: --memory-headroom-mb 1024: leaves nothing of 1024 MiB to offer');
  });
});
