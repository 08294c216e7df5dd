/**
 * The dashboard in a real browser (Debian's headless Chromium through playwright-core):
 * - a real sweep run by `npf run` (embedded coordinator, two worker processes, the fake trainer
 *   so that trials take seconds), shown live by a separate `npf ui` process reading the same
 *   store: a running trial's epoch advances without a reload, the table ends equal to
 *   results.json, hover and legend toggles work, a lineage link leads to the parent and back;
 * - a store whose sweep name, trial labels and error text are HTML: shown as text, never run.
 * Screenshots go to test-artifacts/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../coordinator/artifact-store.js';
import { regimeLabel } from '../../science/labels.js';
import { CoordinatorStore } from '../../coordinator/store/coordinator-store.js';
import { SweepCoordinator } from '../../coordinator/sweep-coordinator.js';
import type { ExpandedTask } from '../../coordinator/sweep-types.js';
import { startUiServer, type UiServer } from '../../dashboard/ui-server.js';
import { E2E, fakeSweepYaml, waitFor, type Proc } from '../e2e/harness.js';
import { ARTIFACTS, launchBrowser, type Browser } from './browser.js';

let env: E2E | undefined;
let browser: Browser | undefined;
let ui: UiServer | undefined;
afterEach(async () => {
  await browser?.close();
  await ui?.close();
  await env?.killAll();
  browser = undefined;
  ui = undefined;
  env = undefined;
});

const SPEC = fakeSweepYaml('dash-live', 2, '{ relu: 4, default: 12 }');

/** Console errors of a page (a CSP violation is one), for the end of a test. */
function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function uiUrl(p: Proc): string | undefined {
  return /on (http:\/\/\S+)/.exec(p.out)?.[1];
}

describe('dashboard - in a browser', () => {
  it('dashboard - a live sweep of real workers: epochs advance without reload, the table ends as results.json, figures interact, lineage links both ways', async () => {
    env = new E2E('dash-live');
    const spec = env.write('sweep.yaml', SPEC);
    const dataDir = env.path('state');
    const fake = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '1200' };
    const run = env.npf('npf-run', ['run', spec, '--workers', '2', '--data-dir', dataDir, '--plain'], fake);
    await waitFor(() => /sweep dash-live \((sw-\S+)\)/.test(run.err), 'the sweep to be submitted', 60_000, [run]);
    const sweepId = /sweep dash-live \((sw-\S+)\)/.exec(run.err)![1];
    const uiProc = env.npf('npf-ui', ['ui', '--data-dir', dataDir, '--http', '127.0.0.1:0']);
    await waitFor(() => uiUrl(uiProc) !== undefined, 'npf ui to listen', 30_000, [uiProc]);

    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const errors = watchConsole(page);
    await page.goto(uiUrl(uiProc)!);
    await page.locator(`#sweeps tr[data-sweep="${sweepId}"] a`).click();
    await page.waitForSelector('#trial-grid tbody tr[data-task]');
    // Marks this document: a reload would lose it.
    await page.evaluate(() => ((globalThis as unknown as { npfMark: number }).npfMark = 42));

    // A running trial's epoch, then a later one, pushed to the same page.
    const runningRow = page.locator('#trial-grid tbody tr[data-state="running"]').first();
    await runningRow.waitFor({ timeout: 60_000 });
    const taskId = (await runningRow.getAttribute('data-task'))!;
    const epochCell = page.locator(`#trial-grid tbody tr[data-task="${taskId}"] td.epoch`);
    const epochOf = async () => Number((await epochCell.textContent({ timeout: 30_000 }))!.split('/')[0]);
    const first = await epochOf();
    await waitFor(async () => (await epochOf()) > first, `the epoch of ${taskId} to advance past ${first}`, 30_000, [run]);
    expect(await page.evaluate(() => (globalThis as unknown as { npfMark?: number }).npfMark)).toBe(42);
    await shot(page, 'dashboard-sweep-running');

    // The run ends; the page, never reloaded, shows the final table.
    const exit = await run.exited;
    expect(exit.code, run.err).toBe(0);
    await page.locator('#sweep-summary .badge.complete').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { npfMark?: number }).npfMark)).toBe(42);
    const results = JSON.parse(readFileSync(join(dataDir, 'sweeps', sweepId, 'results.json'), 'utf8')) as {
      table2: { rows: Array<{ cells: Record<string, { mean: number | null; std: number | null; n: number } | null> }> };
    };
    await waitFor(async () => !(await page.locator('#results').textContent())!.includes('pending'), 'the table to fill', 20_000);
    const head = await page.locator('#results table.results-table thead th').allTextContents();
    const bodyRows = page.locator('#results table.results-table tbody tr:not(.paper)');
    expect(await bodyRows.count()).toBe(results.table2.rows.length);
    let checked = 0;
    for (const [i, row] of results.table2.rows.entries()) {
      const cells = await bodyRows.nth(i).locator('td').allTextContents();
      for (const [regime, cell] of Object.entries(row.cells)) {
        if (!cell) continue;
        const col = head.indexOf(regimeLabel(regime));
        expect(col, regime).toBeGreaterThan(2);
        expect(cells[col], regime).toMatch(new RegExp(`^${cell.mean!.toFixed(2)} ± ${cell.std!.toFixed(2)} \\(n=${cell.n}[;)]`));
        checked++;
      }
    }
    expect(checked).toBe(3); // relu, flnpf, frnpf-ii
    await shot(page, 'dashboard-sweep');

    // Figures: hover values, and a legend click dims the other series.
    // The mean marks (dots, or bars clipped at the plot's bottom; the paper's ticks come after them): hover near their top.
    const bars = page.locator('[data-figure="table2"] g.role-mark:is(.mark-symbol, .mark-rect) path');
    await bars.first().waitFor();
    const box = (await bars.first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 4));
    const tip = page.locator('.tooltip');
    await tip.waitFor({ state: 'visible' });
    expect(await tip.textContent()).toMatch(/mean: \d+\.\d+/);
    const dimmed = async () => (await bars.evaluateAll((ps) => ps.map((p) => p.getAttribute('opacity')))).filter((o) => o === '0.08').length;
    expect(await dimmed()).toBe(0);
    await page.locator('[data-figure="table2"] g.role-legend-symbol path').first().click();
    await waitFor(async () => (await dimmed()) === 2, 'two of three means to dim', 5_000);

    // Lineage: an FLNPF trial names its ReLU parent and checkpoint; the parent lists it back.
    await page.selectOption('#grid-regime', 'flnpf');
    // (The page's CSP forbids eval, so playwright's waitForFunction cannot run there: poll from here.)
    const labels = page.locator('#trial-grid tbody tr[data-task] td:first-child a');
    await waitFor(async () => {
      const l = await labels.allTextContents();
      return l.length === 2 && l.every((t) => t.startsWith('flnpf'));
    }, 'the grid to show the FLNPF trials only', 10_000);
    const child = page.locator('#trial-grid tbody tr[data-task]').first();
    const childId = (await child.getAttribute('data-task'))!;
    await child.locator('a').first().click();
    await page.locator('#parent a').waitFor();
    const parentId = (await page.locator('#parent a').getAttribute('data-task'))!;
    const pinned = (await page.locator('#parent code.hash').textContent())!;
    expect(pinned).toMatch(/^[0-9a-f]{64}$/);
    await page.locator('[data-figure="trial"] svg').waitFor();
    await shot(page, 'dashboard-trial-flnpf');
    await page.locator('#parent a').click();
    await page.waitForURL(`**/#/trials/${parentId}`);
    await page.locator(`#dependants a[data-task="${childId}"]`).waitFor();
    expect(await page.locator('#checkpoints').textContent()).toContain(pinned);
    await shot(page, 'dashboard-trial-relu');
    await page.locator(`#dependants a[data-task="${childId}"]`).click();
    await page.waitForURL(`**/#/trials/${childId}`);
    expect(await page.evaluate(() => (globalThis as unknown as { npfMark?: number }).npfMark)).toBe(42);
    expect(errors).toEqual([]);
  }, 240_000);

  it('dashboard - a sweep name, trial labels and an error text that are HTML show as text and never run', async () => {
    env = new E2E('dash-xss');
    const XSS = '<img src=x onerror=alert(1)>';
    const dataDir = env.path('state');
    const store = new CoordinatorStore(dataDir, () => undefined, 'normal');
    const core = new SweepCoordinator(store, new ArtifactStore(dataDir, 1 << 20), { leaseTtlMs: 60_000, heartbeatIntervalMs: 1000, maxAttempts: 1, retryBackoffMs: 0, maxBackoffMs: 0, now: Date.now, log: () => undefined });
    const task = (seed: number): ExpandedTask => ({
      taskId: createHash('sha256').update(`xss-${seed}-${Math.random()}`).digest('hex'),
      key: { dataset: 'mnist', arch: XSS, optimizer: 'adam', lr: 0.001, regime: 'relu', seed },
      spec: { dataset: { name: 'mnist' }, arch: { kind: 'fc', width: 8, depth: 2 }, regime: 'relu', gate: { beta: 4, eps: 0.1 }, optimizer: { name: 'adam', lr: 0.001 }, loss: 'cross-entropy', init: 'glorot-uniform', epochs: 1, batchSize: 32, seed, backend: 'wasm' },
      resources: { cpu: 1, gpu: 0, memoryMb: 100 },
      priority: 0,
    });
    const tasks = [task(0), task(1)];
    const { sweepId } = await core.submitSweep({ name: XSS, fileName: 'x.yaml', specYaml: `name: ${XSS}`, overrides: [], tasks });
    const { workerId } = await core.registerWorker({ hostname: 'w', resources: { cpu: 2, gpu: 0, memoryMb: 1000 }, backends: ['wasm'], version: 't' });
    const leases = await core.leaseNow(workerId, 2);
    const ok = { status: 'succeeded', backend: 'wasm', bestTestAccuracy: 0.9, bestEpoch: 1, finalTestAccuracy: 0.9, epochs: [{ epoch: 1, trainLoss: 0.3, testLoss: 0.3, testAccuracy: 0.9, examplesPerSec: 10, durationMs: 5 }], checkpoints: [], wallMs: 5 };
    await core.completeTask({ workerId, taskId: leases[0].taskId, fencingToken: leases[0].fencingToken, resultJson: JSON.stringify(ok), artifacts: [] });
    await core.failTask(workerId, leases[1].taskId, leases[1].fencingToken, `trainer crashed: ${XSS}`, false);
    store.close();
    expect(existsSync(join(dataDir, 'npf.db'))).toBe(true);

    ui = await startUiServer({ dataDir, listen: '127.0.0.1:0' });
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    const errors = watchConsole(page);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Any image the page asks for (src=x) would show here.
    const images: string[] = [];
    page.on('request', (r) => {
      if (r.resourceType() === 'image') images.push(r.url());
    });
    await page.goto(ui.url);
    const link = page.locator(`#sweeps tr[data-sweep="${sweepId}"] a`);
    expect(await link.textContent()).toBe(XSS);
    await link.click();
    await page.waitForSelector('#trial-grid tbody tr[data-task]');
    await page.locator('#event-log li').first().waitFor();
    expect(await page.locator('h1').textContent()).toBe(XSS);
    expect(await page.locator('#results').textContent()).toContain(XSS);
    const labels = await page.locator('#trial-grid tbody td:first-child a').allTextContents();
    expect(labels.every((l) => l.includes(XSS))).toBe(true);
    const failed = page.locator(`#trial-grid tbody tr[data-task="${leases[1].taskId}"]`);
    expect(await failed.locator('.badge').getAttribute('title')).toBe(`trainer crashed: ${XSS}`);
    await shot(page, 'dashboard-escaping');
    await failed.locator('a').first().click();
    await page.locator('#trial-error').waitFor();
    expect(await page.locator('#trial-error').textContent()).toBe(`trainer crashed: ${XSS}`);
    expect(await page.locator('#attempts').textContent()).toContain(XSS);
    expect(await page.locator('#app img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(images).toEqual([]);
    expect(errors).toEqual([]);
  });
});
