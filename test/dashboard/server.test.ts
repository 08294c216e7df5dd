/**
 * The dashboard over HTTP, on a real store: `npf ui`'s server (read-only, beside a live
 * coordinator writing the same file) and the coordinator's own listener (token, loopback,
 * /metrics beside it). The results table must be the coordinator's results.md, cell for cell.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import type { EventItem, SweepResponse, SweepsResponse, TrialGridResponse, TrialResponse } from '../../dashboard/api-types.js';
import { CONTENT_SECURITY_POLICY } from '../../dashboard/http-handler.js';
import { markdownBlocks } from '../../dashboard/markdown-blocks.js';
import { startUiServer, type UiServer } from '../../dashboard/ui-server.js';
import { waitFor } from '../e2e/harness.js';
import { fillSyntheticSweep } from './synthetic-store.js';

const TOKEN = 'dashboard-test-token';
let dir: string;
let sweepId: string;
let running: string[];
let coord: RunningCoordinator;
let ui: UiServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npf-dash-server-'));
  const s = await fillSyntheticSweep(dir, { name: 'dash-server', lrs: [0.001, 0.01], seeds: 3, epochs: 4, running: 2, failed: { count: 1, error: 'worker said: out of memory' } });
  sweepId = s.sweepId;
  running = s.running;
  s.close();
  coord = await startCoordinator({ dataDir: dir, grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', token: TOKEN, registry: new Registry(), log: () => undefined, leaseTtlMs: 3_600_000 });
  ui = await startUiServer({ dataDir: dir, listen: '127.0.0.1:0' });
});

afterAll(async () => {
  await ui?.close();
  await coord?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = (base: string, path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });
const uiBase = () => ui.url.replace(/\/$/, '');
const coordBase = () => `http://${coord.httpAddress}`;

async function getJson<T>(path: string): Promise<T> {
  const res = await get(uiBase(), path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** Read SSE messages until `n` arrived (or `ms` passed). */
function readStream(url: string, headers: Record<string, string>, n: number, ms = 10_000, onOpen?: () => void): Promise<Array<{ id: number; item: EventItem }>> {
  return new Promise((resolve, reject) => {
    const got: Array<{ id: number; item: EventItem }> = [];
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      onOpen?.();
      let buf = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const msg = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\d+)$/m.exec(msg)?.[1];
          const data = /^data: (.*)$/m.exec(msg)?.[1];
          if (id && data) got.push({ id: Number(id), item: JSON.parse(data) as EventItem });
          if (got.length >= n) {
            req.destroy();
            resolve(got);
          }
        }
      });
    });
    req.on('error', (e) => (got.length >= n ? undefined : reject(e)));
    setTimeout(() => {
      req.destroy();
      resolve(got);
    }, ms);
  });
}

describe('dashboard - HTTP API on a real store', () => {
  it("dashboard - the results blocks are the coordinator's results.md, cell for cell", async () => {
    const data = await getJson<SweepResponse>(`/api/sweeps/${sweepId}`);
    const md = coord.results(sweepId, 'markdown').table;
    expect(data.results).toEqual(markdownBlocks(md));
    const table = data.results.find((b) => b.kind === 'table');
    expect(table?.kind === 'table' && table.rows[0].cells.join(' ')).toMatch(/± .*\(n=/);
    expect(data.figures.map((f) => f.name)).toEqual(expect.arrayContaining(['table2', 'trial-curves']));
    expect(data.sweep.counts.running).toBe(2);
    expect(data.sweep.counts.failed).toBe(1);
    expect(data.sweep.total).toBe(30);
  });

  it('dashboard - the sweep list, a grid page sorted and filtered, a trial with its lineage both ways', async () => {
    const list = await getJson<SweepsResponse>('/api/sweeps');
    expect(list.sweeps.map((s) => s.sweepId)).toEqual([sweepId]);
    const page = await getJson<TrialGridResponse>(`/api/sweeps/${sweepId}/trials?limit=10&sort=best&dir=desc`);
    expect(page.total).toBe(30);
    expect(page.rows).toHaveLength(10);
    const best = page.rows.map((r) => r.best!);
    expect(best).toEqual([...best].sort((a, b) => b - a));
    const live = await getJson<TrialGridResponse>(`/api/sweeps/${sweepId}/trials?state=running`);
    expect(live.rows.map((r) => r.taskId).sort()).toEqual([...running].sort());
    expect(live.rows.every((r) => r.epoch === 2 && r.epochs === 4 && r.curve.length === 2)).toBe(true);

    const flnpf = (await getJson<TrialGridResponse>(`/api/sweeps/${sweepId}/trials?regime=flnpf&state=succeeded&limit=1`)).rows[0];
    const child = await getJson<TrialResponse>(`/api/trials/${flnpf.taskId}`);
    expect(child.parent?.taskId).toBe(flnpf.parentTaskId);
    expect(child.parent?.checkpoint).toBe('best');
    expect(child.parent?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const parent = await getJson<TrialResponse>(`/api/trials/${child.parent!.taskId}`);
    expect(parent.dependants.map((d) => d.taskId)).toContain(child.taskId);
    expect(parent.checkpoints.map((c) => c.sha256)).toContain(child.parent!.sha256);
    expect(parent.curve).toHaveLength(4);
    expect(parent.figure?.vega).toBeTruthy();
  });

  it('dashboard - a bad query is 400, an unknown sweep or trial 404, and nothing but GET is allowed', async () => {
    expect((await get(uiBase(), `/api/sweeps/${sweepId}/trials?sort=nope`)).status).toBe(400);
    expect((await get(uiBase(), '/api/sweeps/sw-nope')).status).toBe(404);
    expect((await get(uiBase(), '/api/trials/nope')).status).toBe(404);
    const post = await fetch(`${uiBase()}/api/sweeps`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('dashboard - every answer carries the strict CSP; the shell has no inline script', async () => {
    for (const path of ['/', '/api/sweeps', '/assets/app.js', '/login']) {
      const res = await get(uiBase(), path);
      expect(res.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect(CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'(;|$)/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe/);
    const html = await (await get(uiBase(), '/')).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('dashboard - the event stream replays from Last-Event-ID and pushes what the coordinator commits next', async () => {
    const all = await readStream(`${uiBase()}/api/stream?sweep=${sweepId}&after=0`, {}, 20);
    expect(all).toHaveLength(20);
    const ids = all.map((m) => m.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(all[0].item.type).toBe('sweep.submitted');
    const resumed = await readStream(`${uiBase()}/api/stream?sweep=${sweepId}&after=0`, { 'last-event-id': String(ids[9]) }, 5);
    expect(resumed.map((m) => m.id)).toEqual(ids.slice(10, 15));

    // Live: the coordinator commits new events; the read-only server pushes them.
    const next = readStream(`${uiBase()}/api/stream?sweep=${sweepId}`, {}, 1, 10_000, () => {
      // Cancel the sweep through the coordinator once the stream is open: the events are new.
      setTimeout(() => void coord.core.cancelSweep(sweepId), 100);
    });
    const pushed = await next;
    expect(pushed).toHaveLength(1);
    expect(pushed[0].id).toBeGreaterThan(ids.at(-1)!);
    expect(['task.cancelled', 'sweep.cancelled']).toContain(pushed[0].item.type);
    // Views are recomputed when the log moves (at most every 500 ms): the cancellation shows within a second.
    await waitFor(async () => (await getJson<SweepResponse>(`/api/sweeps/${sweepId}`)).sweep.state === 'cancelled', 'the cancelled state', 5_000);
    // The trial grid is a view of its own, recomputed on the same schedule: it may lag the sweep's by one refresh.
    const cancelledRows = async () => (await getJson<TrialGridResponse>(`/api/sweeps/${sweepId}/trials?state=cancelled`)).rows.map((r) => r.taskId).sort();
    await waitFor(async () => (await cancelledRows()).length === running.length, 'the cancelled trials in the grid', 5_000);
    expect(await cancelledRows()).toEqual([...running].sort());
  });
});

describe("dashboard - on the coordinator's HTTP listener", () => {
  it('dashboard - /metrics stays open; the dashboard wants the token: bearer, sign-in form or a ?token= link', async () => {
    expect((await get(coordBase(), '/metrics')).status).toBe(200);
    expect((await get(coordBase(), '/nope')).status).toBe(404);
    expect((await get(coordBase(), '/api/sweeps')).status).toBe(401);
    const page = await get(coordBase(), '/');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2F');
    expect((await get(coordBase(), '/api/sweeps', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(coordBase(), '/api/sweeps', { authorization: 'Bearer nope' })).status).toBe(401);

    const form = (token: string) => fetch(`${coordBase()}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, next: '/#/sweeps/x' }).toString() });
    expect((await form('wrong')).status).toBe(401);
    const ok = await form(TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/#/sweeps/x');
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    expect(cookie).not.toContain(TOKEN);
    expect((await get(coordBase(), '/api/sweeps', { cookie })).status).toBe(200);

    const link = await get(coordBase(), `/?token=${TOKEN}&x=1`);
    expect(link.status).toBe(303);
    expect(link.headers.get('location')).toBe('/?x=1');
    expect(link.headers.get('set-cookie')!.split(';')[0]).toBe(cookie);
    expect((await get(coordBase(), '/?token=wrong')).status).toBe(401);
  });

  it("dashboard - 'loopback' refuses other clients, 'all' serves them, 'off' serves no dashboard", async () => {
    // Each coordinator its own data directory: the one started in beforeAll holds `dir`'s single-writer lock.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const reg = () => new Registry();
    const off = await startCoordinator({ dataDir: mkdtempSync(join(tmpdir(), 'npf-dash-ui-')), grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', token: TOKEN, registry: reg(), log: () => undefined, ui: 'off' });
    try {
      expect((await get(`http://${off.httpAddress}`, '/', { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
      expect((await get(`http://${off.httpAddress}`, '/metrics')).status).toBe(200);
    } finally {
      await off.stop();
    }
    // This machine's own non-loopback address reaches a listener on 0.0.0.0 as a non-loopback client.
    if (!external) throw new Error('no non-loopback IPv4 address on this machine to test the loopback rule with');
    for (const mode of ['loopback', 'all'] as const) {
      const c = await startCoordinator({ dataDir: mkdtempSync(join(tmpdir(), 'npf-dash-ui-')), grpcListen: '127.0.0.1:0', httpListen: '0.0.0.0:0', token: TOKEN, registry: reg(), log: () => undefined, ui: mode });
      try {
        const port = c.httpAddress!.split(':').at(-1);
        const auth = { authorization: `Bearer ${TOKEN}` };
        expect((await get(`http://${external}:${port}`, '/api/sweeps', auth)).status, mode).toBe(mode === 'loopback' ? 403 : 200);
        expect((await get(`http://127.0.0.1:${port}`, '/api/sweeps', auth)).status, mode).toBe(200);
        expect((await get(`http://${external}:${port}`, '/metrics')).status, mode).toBe(200);
      } finally {
        await c.stop();
      }
    }
  });
});
