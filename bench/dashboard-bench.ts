/**
 * Dashboard benchmark: a sweep of 10,000 trials (default) in a store filled through the
 * coordinator's API (test/dashboard/synthetic-store.ts: leased, reported, completed, ReLU
 * checkpoints uploaded, some left running, some failed), served by `npf ui`'s server and opened
 * in headless Chromium (/usr/bin/chromium via playwright-core). Measures, per fresh page:
 *   - time to first render: navigation start -> the sweep page drawn (summary, results table,
 *     figures, first grid page, event log), read from window.npfFirstRender;
 *   - browser memory: JS heap used and DOM nodes (CDP Performance.getMetrics), after the first
 *     render and after paging through the grid and sorting it;
 *   - the server's answer times for the sweep (cold and cached) and a sorted grid page.
 *
 *   npm run bench:dashboard [-- --trials 10000 --runs 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startUiServer } from '../dashboard/ui-server.js';
import { launchBrowser } from '../test/dashboard/browser.js';
import { fillSyntheticSweep } from '../test/dashboard/synthetic-store.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
const trials = Number(values.trials);
const runs = Number(values.runs);
const LRS = [0.1, 0.01, 0.001, 0.0001];
const seeds = Math.ceil(trials / (5 * LRS.length));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'npf-dash-bench-'));
  try {
    const fill = await timed(() => fillSyntheticSweep(dir, { name: 'bench', lrs: LRS, seeds, epochs: 10, running: 20, failed: { count: 10, error: 'synthetic failure' } }));
    const sweep = fill.value;
    sweep.close();
    console.log(`store: ${sweep.tasks.length} trials (${LRS.length} lrs x 5 regimes x ${seeds} seeds, 10 epochs each) filled through the coordinator API in ${(fill.ms / 1000).toFixed(1)} s`);

    const ui = await startUiServer({ dataDir: dir, listen: '127.0.0.1:0' });
    const api = async (path: string) => {
      const r = await timed(async () => {
        const res = await fetch(`${ui.url.replace(/\/$/, '')}${path}`);
        return (await res.text()).length;
      });
      return { ms: r.ms, bytes: r.value };
    };
    const cold = await api(`/api/sweeps/${sweep.sweepId}`);
    const warm = await api(`/api/sweeps/${sweep.sweepId}`);
    const gridCold = await api(`/api/sweeps/${sweep.sweepId}/trials?sort=best&dir=desc&limit=100`);
    const gridWarm = await api(`/api/sweeps/${sweep.sweepId}/trials?sort=label&limit=100&offset=5000`);
    console.log(`server: sweep view ${cold.ms.toFixed(0)} ms cold (${(cold.bytes / 1024).toFixed(0)} KiB), ${warm.ms.toFixed(0)} ms cached; grid page ${gridCold.ms.toFixed(0)} ms (first, builds the grid), ${gridWarm.ms.toFixed(0)} ms (sorted by label, page 51)`);

    const firstRender: number[] = [];
    const heap: number[] = [];
    const nodes: number[] = [];
    const heapAfter: number[] = [];
    const nodesAfter: number[] = [];
    for (let i = 0; i < runs; i++) {
      const browser = await launchBrowser();
      try {
        const page = await browser.context.newPage();
        const cdp = await browser.context.newCDPSession(page);
        await cdp.send('Performance.enable');
        const metrics = async () => {
          await cdp.send('HeapProfiler.collectGarbage');
          const { metrics: m } = await cdp.send('Performance.getMetrics');
          const get = (n: string) => m.find((x) => x.name === n)?.value ?? NaN;
          return { heap: get('JSHeapUsedSize'), nodes: get('Nodes') };
        };
        await page.goto(`${ui.url}#/sweeps/${sweep.sweepId}`);
        await page.waitForSelector('#trial-grid tbody tr[data-task]');
        await page.waitForSelector('#figures svg');
        const t = await page.evaluate(() => (globalThis as unknown as { npfFirstRender?: number }).npfFirstRender);
        await page.waitForTimeout(300);
        const m1 = await metrics();
        // Use it: five pages forward, sort by best accuracy, filter by a regime.
        for (let p = 0; p < 5; p++) {
          const before = await page.locator('#grid-info').textContent();
          await page.click('#grid-next');
          // Polled from here: the page's CSP forbids the eval that waitForFunction needs.
          for (let w = 0; (await page.locator('#grid-info').textContent()) === before; w++) {
            if (w > 200) throw new Error('the grid did not turn the page');
            await page.waitForTimeout(25);
          }
        }
        await page.click('th[data-sort="best"]');
        await page.waitForSelector('th[data-sort="best"][aria-sort="descending"]');
        await page.selectOption('#grid-regime', 'dnpfl');
        await page.waitForTimeout(1500);
        const m2 = await metrics();
        if (t === undefined) throw new Error('the page never reported its first render');
        firstRender.push(t);
        heap.push(m1.heap);
        nodes.push(m1.nodes);
        heapAfter.push(m2.heap);
        nodesAfter.push(m2.nodes);
        console.log(`run ${i + 1}: first render ${t.toFixed(0)} ms; JS heap ${mib(m1.heap)} MiB, ${m1.nodes} DOM nodes; after paging/sorting/filtering ${mib(m2.heap)} MiB, ${m2.nodes} nodes`);
      } finally {
        await browser.close();
      }
    }
    await ui.close();
    console.log('');
    console.log(`| trials | first render (median of ${runs}) | JS heap after render | DOM nodes | JS heap after paging/sort/filter | sweep view (server, cold / cached) | grid page (server) |`);
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${sweep.tasks.length} | ${median(firstRender).toFixed(0)} ms (${Math.min(...firstRender).toFixed(0)}-${Math.max(...firstRender).toFixed(0)}) | ${mib(median(heap))} MiB | ${median(nodes)} | ${mib(median(heapAfter))} MiB | ${cold.ms.toFixed(0)} / ${warm.ms.toFixed(0)} ms | ${gridWarm.ms.toFixed(0)} ms |`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
