/**
 * The dashboard's pure parts: results.md as blocks, legend toggles on every figure kind, the
 * ETA, the trial grid's filter/sort/paging, sign-in helpers and the SSE framing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TaskStateName } from '../../dashboard/api-types.js';
import { cookieValue, isAuthorized, isLoopbackAddress, safeNext, sessionCookie, sessionValue, tokenMatches } from '../../dashboard/auth.js';
import type { TrialGridRecord } from '../../dashboard/data-source.js';
import { withSeriesToggle, SERIES_PARAM } from '../../dashboard/interactive-figure.js';
import { resumePoint, sseMessage } from '../../dashboard/live-events.js';
import { markdownBlocks, splitRow } from '../../dashboard/markdown-blocks.js';
import { esc } from '../../coordinator/results/format-table-markdown.js';
import { escapeHtml, loginPage } from '../../dashboard/page-shell.js';
import { estimateEtaMs } from '../../dashboard/sweep-summary.js';
import { parseGridQuery, queryGrid } from '../../dashboard/trial-grid.js';
import { buildFigures } from '../../figures/build-figures.js';
import { compileFigure } from '../../figures/render-figure.js';
import { sampleFiguresInput } from '../figures/sample-input.js';

const golden = (name: string) => readFileSync(new URL(`../results/golden/${name}`, import.meta.url), 'utf8');

describe('dashboard - results.md as blocks', () => {
  it('dashboard - every cell of the Table 2 golden file comes through exactly, paper rows marked', () => {
    const md = golden('table2.md');
    const blocks = markdownBlocks(md);
    const table = blocks.find((b) => b.kind === 'table');
    if (table?.kind !== 'table') throw new Error('no table');
    const lines = md.split('\n').filter((l) => l.startsWith('|'));
    expect(table.head).toEqual(splitRow(lines[0]));
    expect(table.align).toEqual(['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right']);
    expect(table.rows.map((r) => r.cells)).toEqual(lines.slice(2).map(splitRow));
    expect(table.rows.map((r) => r.paper)).toEqual([false, true, false, true]);
    expect(table.rows[0].cells[6]).toBe('97.15 ± 0.05 (n=2/3; missing seed 2; 1 pending; lr 0.01)');
    expect(blocks.filter((b) => b.kind === 'text').map((b) => (b.kind === 'text' ? b.text : ''))[0]).toMatch(/^Test accuracy \(%\)/);
  });

  it('dashboard - stages tables keep their heading, and an escaped pipe stays in its cell', () => {
    const blocks = markdownBlocks(golden('stages.md'));
    expect(blocks[0]).toEqual({ kind: 'heading', text: expect.stringMatching(/^Stages: /) });
    expect(blocks.filter((b) => b.kind === 'table')).toHaveLength(blocks.filter((b) => b.kind === 'heading').length);
    expect(splitRow('| a \\| b | c |')).toEqual(['a | b', 'c']);
  });

  it("dashboard - the Markdown's cell escapes are undone: the page gets the text itself back", () => {
    for (const text of ['<img src=x onerror=alert(1)>', 'a | b \\| c', 'x & y &lt; z', 'back\\slash']) {
      expect(splitRow(`| ${esc(text)} | 1 |`), text).toEqual([text, '1']);
    }
  });
});

describe('dashboard - interactive figures', () => {
  it('dashboard - each figure with series gets a legend-bound selection that vega-lite compiles', () => {
    for (const f of buildFigures(sampleFiguresInput())) {
      const { spec, seriesField } = withSeriesToggle(f.spec);
      const text = JSON.stringify(spec);
      if (f.name.startsWith('nu')) {
        expect(seriesField, f.name).toBeNull();
        expect(text).toBe(JSON.stringify(f.spec));
        continue;
      }
      expect(seriesField, f.name).not.toBeNull();
      expect(text).toContain(`"bind":"legend"`);
      expect(text).toContain(`"param":"${SERIES_PARAM}"`);
      const vega = JSON.stringify(compileFigure(f.name, spec));
      expect(vega, f.name).toContain(`${SERIES_PARAM}_tuple`);
      // The figure for files is unchanged.
      expect(JSON.stringify(f.spec)).not.toContain('bind');
    }
  });
});

describe('dashboard - ETA', () => {
  const counts = (c: Partial<Record<TaskStateName, number>>): Record<TaskStateName, number> => ({ blocked: 0, pending: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, ...c });
  it('dashboard - ETA is unknown before a trial finished, 0 when nothing is open, else mean x open / in flight', () => {
    expect(estimateEtaMs(counts({ pending: 3 }), [])).toBeNull();
    expect(estimateEtaMs(counts({ succeeded: 3 }), [1000])).toBe(0);
    // 10 s per trial, 2 running (half done on average) and 6 waiting, 2 at a time: (8 - 1) x 10 s / 2.
    expect(estimateEtaMs(counts({ running: 2, pending: 4, blocked: 2, succeeded: 2 }), [8000, 12000])).toBe(35_000);
  });
});

function record(i: number, over: Partial<TrialGridRecord> = {}): TrialGridRecord {
  const regimes = ['relu', 'flnpf', 'dnpfl'];
  return {
    seq: i,
    taskId: `task${String(i).padStart(4, '0')}`,
    key: { dataset: 'mnist', arch: 'fc', optimizer: 'adam', lr: 0.001, regime: regimes[i % 3], seed: i },
    state: 'succeeded',
    attempt: 1,
    worker: `w${i % 4}`,
    error: null,
    parentTaskId: null,
    epoch: 3,
    epochs: 3,
    backend: 'wasm',
    currentAccuracy: 0.5 + (i % 7) / 100,
    bestAccuracy: 0.5 + (i % 11) / 100,
    curve: [0.4, 0.5],
    resultStatus: 'succeeded',
    ...over,
  };
}

describe('dashboard - trial grid', () => {
  const records = Array.from({ length: 10_000 }, (_, i) => record(i, i % 10 === 0 ? { state: 'running', bestAccuracy: null, worker: null } : {}));

  it('dashboard - one page of 10,000 trials, sorted by best accuracy with missing values last', () => {
    const q = parseGridQuery(new URLSearchParams({ sort: 'best', dir: 'desc', offset: '0', limit: '50' }));
    const page = queryGrid(records, q);
    expect(page.total).toBe(10_000);
    expect(page.matched).toBe(10_000);
    expect(page.rows).toHaveLength(50);
    const best = page.rows.map((r) => r.best!);
    expect(best).toEqual([...best].sort((a, b) => b - a));
    expect(best[0]).toBeCloseTo(0.6, 6);
    const last = queryGrid(records, { ...q, offset: 9_990 });
    expect(last.rows.every((r) => r.best === null)).toBe(true);
    const asc = queryGrid(records, { ...q, desc: false, offset: 9_990 });
    expect(asc.rows.every((r) => r.best === null)).toBe(true);
  });

  it('dashboard - filters by state, regime and text (label, task id, worker) combine', () => {
    const q = parseGridQuery(new URLSearchParams({ state: 'running', regime: 'flnpf', q: 'SEED 1' }));
    const page = queryGrid(records, { ...q, limit: 1000 });
    expect(page.rows.length).toBeGreaterThan(0);
    for (const r of page.rows) {
      expect(r.state).toBe('running');
      expect(r.regime).toBe('flnpf');
      expect(r.label.toLowerCase()).toContain('seed 1');
    }
    expect(page.matched).toBe(records.filter((r) => r.state === 'running' && r.key.regime === 'flnpf' && `seed ${r.key.seed}`.startsWith('seed 1')).length);
    expect(queryGrid(records, { ...q, states: [], regime: '', text: 'task0042' }).rows.map((r) => r.taskId)).toEqual(['task0042']);
  });

  it('dashboard - a bad grid query is refused with the parameter named', () => {
    expect(() => parseGridQuery(new URLSearchParams({ sort: 'nope' }))).toThrow(/sort=nope/);
    expect(() => parseGridQuery(new URLSearchParams({ limit: '5000' }))).toThrow(/limit=5000/);
    expect(() => parseGridQuery(new URLSearchParams({ state: 'done' }))).toThrow(/state=done/);
  });
});

describe('dashboard - sign-in and streams', () => {
  it('dashboard - bearer token or session cookie; the cookie is not the token', () => {
    const token = 'secret-token';
    expect(sessionValue(token)).not.toContain(token);
    expect(isAuthorized({}, undefined)).toBe(true);
    expect(isAuthorized({}, token)).toBe(false);
    expect(isAuthorized({ authorization: `Bearer ${token}` }, token)).toBe(true);
    expect(isAuthorized({ authorization: 'Bearer wrong' }, token)).toBe(false);
    const cookie = sessionCookie(token).split(';')[0];
    expect(sessionCookie(token)).toMatch(/HttpOnly; SameSite=Strict/);
    expect(isAuthorized({ cookie: `a=b; ${cookie}` }, token)).toBe(true);
    expect(isAuthorized({ cookie: `npf_dashboard=${token}` }, token)).toBe(false);
    expect(cookieValue('x=1; npf_dashboard=abc', 'npf_dashboard')).toBe('abc');
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, `${token} `)).toBe(false);
  });

  it('dashboard - loopback addresses and safe sign-in targets', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
    expect(safeNext('/#/sweeps/x')).toBe('/#/sweeps/x');
    for (const bad of ['//evil.example/', 'https://evil.example/', '/\\evil', null]) expect(safeNext(bad)).toBe('/');
    expect(loginPage('/"><script>x</script>', false)).toContain(escapeHtml('/"><script>x</script>'));
    expect(loginPage('/"><script>x</script>', false)).not.toContain('<script>x');
  });

  it('dashboard - streams resume after Last-Event-ID, else ?after, else from now; messages are one data line', () => {
    expect(resumePoint('41', '7', 100)).toBe(41);
    expect(resumePoint(undefined, '7', 100)).toBe(7);
    expect(resumePoint(undefined, null, 100)).toBe(100);
    expect(() => resumePoint('x', null, 1)).toThrow(/not a whole number/);
    expect(sseMessage(5, 'npf', { text: 'a\nb' })).toBe('id: 5\nevent: npf\ndata: {"text":"a\\nb"}\n\n');
  });
});
