/**
 * Issue 12 finding 11: a trial's identity is its spec (not its labels), so a later sweep can
 * name trials an earlier sweep already ran with other dataset or arch labels. Each sweep's
 * results show its own labels, and the earlier sweep keeps its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureResult, fixtureTask, startHarness, submitFixtures, type Harness } from '../coordinator/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('sweep labels', () => {
  it("a later sweep's labels are kept when its trials already exist from an earlier sweep", async () => {
    h = await startHarness();
    const first = fixtureTask({ seed: 1 });
    first.key = { ...first.key, dataset: 'mnist-first', arch: 'fc-first' };
    const early = await submitFixtures(h, [first], 'early');
    const w = await h.register();
    const [l] = await h.lease(w, 1);
    await h.w('completeTask', { workerId: w, taskId: l.taskId, fencingToken: l.fencingToken, resultJson: JSON.stringify(fixtureResult(0.9)), artifacts: [] });

    // The same trial (same spec, same id), labelled otherwise by a later sweep.
    const again = { ...first, key: { ...first.key, dataset: 'mnist-later', arch: 'fc-later' } };
    const later = await submitFixtures(h, [again], 'later');
    expect(h.c.core.getSweep(later).state).toBe('complete');
    expect(h.c.core.outcomes(later).map((o) => [o.key.dataset, o.key.arch, o.status])).toEqual([['mnist-later', 'fc-later', 'succeeded']]);
    expect(h.c.core.outcomes(early).map((o) => [o.key.dataset, o.key.arch])).toEqual([['mnist-first', 'fc-first']]);
    expect(h.c.results(later, 'csv').table).toContain('mnist-later');
    expect(h.c.results(later, 'csv').table).not.toContain('mnist-first');
    expect(h.c.results(early, 'csv').table).toContain('mnist-first');

    // Kept across a restart, and in the dashboard's reads of each sweep.
    await h.restart();
    expect(h.c.core.outcomes(later)[0].key.dataset).toBe('mnist-later');
    expect(h.c.core.outcomes(early)[0].key.dataset).toBe('mnist-first');
  });
});
