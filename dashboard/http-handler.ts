/**
 * The dashboard's HTTP edge: the app shell, its bundled assets, the JSON API, the live event
 * stream, and sign-in. Read-only: nothing here writes to the store. Every response carries a
 * strict Content-Security-Policy (scripts, styles and connections from this origin only; no
 * inline code, no eval, nothing from elsewhere).
 *
 *   GET  /                               the app (pages are drawn by the browser code: #/sweeps/<id>, #/trials/<id>)
 *   GET  /assets/app.js, /assets/app.css the bundle built by `npm run build`
 *   GET  /api/sweeps                     SweepsResponse
 *   GET  /api/sweeps/<id>                SweepResponse (results.md as blocks, results.json, figures)
 *   GET  /api/sweeps/<id>/trials         TrialGridResponse (?offset&limit&sort&dir&state&regime&q)
 *   GET  /api/sweeps/<id>/events         EventsResponse (?before&type&task&limit), newest first
 *   GET  /api/stream[?sweep=<id>]        text/event-stream, resumable with Last-Event-ID (or ?after=<seq>)
 *   GET  /api/trials/<taskId>            TrialResponse
 *   GET  /login, POST /login             sign in with the token (when there is one)
 */
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { InvalidInputError, NpfError } from '../common/errors.js';
import { packageRoot } from '../coordinator/results/load-paper-reference.js';
import { EVENT_TYPES, type EventsResponse, type SweepResponse, type SweepsResponse, type TrialGridResponse } from './api-types.js';
import { isAuthorized, isLoopbackAddress, safeNext, sessionCookie, tokenMatches } from './auth.js';
import type { DashboardDataSource, TrialGridRecord } from './data-source.js';
import { DashboardAssetsError, DashboardNotFoundError } from './errors.js';
import { eventItem } from './event-items.js';
import { LiveEvents, resumePoint, type LiveEventsOptions } from './live-events.js';
import { appShell, loginPage } from './page-shell.js';
import { sweepReport, type ReportContext, type SweepReport } from './sweep-report.js';
import { sweepSummary } from './sweep-summary.js';
import { parseGridQuery, queryGrid } from './trial-grid.js';
import { trialView } from './trial-view.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface DashboardOptions {
  source: DashboardDataSource;
  /** Requests need this token (bearer or session cookie); undefined: open (a local `npf ui`). */
  token?: string;
  /** Answer loopback clients only (403 for others). */
  loopbackOnly: boolean;
  report: ReportContext;
  /** Where app.js and app.css are (default <package>/dist/dashboard/assets). */
  assetsDir?: string;
  live?: LiveEventsOptions;
  /** Shortest time between two recomputations of one sweep's views while it changes (default 500 ms). */
  minRefreshMs?: number;
  now?: () => number;
}

export interface Dashboard {
  /** Answer one request (any path). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Something was committed: push new events now instead of at the next look. */
  wake(): void;
  close(): void;
}

export const EVENT_PAGE = 200;

/** The files of the browser bundle, and their content types. */
const ASSETS: Record<string, string> = {
  '/assets/app.js': 'text/javascript; charset=utf-8',
  '/assets/app.css': 'text/css; charset=utf-8',
  '/assets/app.js.map': 'application/json; charset=utf-8',
  '/assets/app.css.map': 'application/json; charset=utf-8',
};

/**
 * Views cached by the store's event sequence: recomputed when it moves, but at most every
 * `minMs` or four times as long as the last computation took, whichever is longer (a big sweep
 * that changes all the time costs the server at most a fifth of its time).
 */
class ViewCache {
  private readonly entries = new Map<string, { seq: number; atMs: number; tookMs: number; value: unknown }>();
  constructor(
    private readonly minMs: number,
    private readonly now: () => number,
  ) {}

  /** The view and the event sequence it was computed at (older than `seq` when served from the cache). */
  get<T>(key: string, seq: number, compute: () => T): { value: T; seq: number } {
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && (hit.seq === seq || now - hit.atMs < Math.max(this.minMs, 4 * hit.tookMs))) return { value: hit.value as T, seq: hit.seq };
    const t0 = performance.now();
    const value = compute();
    this.entries.set(key, { seq, atMs: now, tookMs: performance.now() - t0, value });
    if (this.entries.size > 64) this.entries.delete(this.entries.keys().next().value!);
    return { value, seq };
  }
}

function send(res: ServerResponse, code: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(code, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra }).end(body);
}

function json(res: ServerResponse, code: number, value: unknown): void {
  send(res, code, 'application/json; charset=utf-8', JSON.stringify(value));
}

function readForm(req: IncomingMessage, max = 4096): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > max) {
        reject(new InvalidInputError('the sign-in form is too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

/** Paths the dashboard answers; anything else is a plain 404, signed in or not. */
function isDashboardPath(path: string): boolean {
  return ['/', '/index.html', '/login', '/favicon.ico'].includes(path) || path.startsWith('/api/') || path.startsWith('/assets/');
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const { source } = opts;
  const now = opts.now ?? Date.now;
  const cache = new ViewCache(opts.minRefreshMs ?? 500, now);
  const live = new LiveEvents(source, opts.live);
  const assetsDir = opts.assetsDir ?? join(packageRoot(), 'dist', 'dashboard', 'assets');
  const assets = new Map<string, { body: Buffer; mtimeMs: number }>();

  const asset = (name: string): Buffer => {
    const file = join(assetsDir, name);
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      throw new DashboardAssetsError(file);
    }
    const hit = assets.get(name);
    if (hit && hit.mtimeMs === mtimeMs) return hit.body;
    const body = readFileSync(file);
    assets.set(name, { body, mtimeMs });
    return body;
  };

  /** A sweep's record and its finished durations (for the ETA), cached like the views. */
  const sweepState = (sweepId: string, seq: number) => {
    const { value: state, seq: at } = cache.get(`sweep:${sweepId}`, seq, () => {
      const record = source.sweep(sweepId);
      return record ? { record, durations: source.succeededDurations(sweepId) } : undefined;
    });
    if (!state) throw new DashboardNotFoundError('sweep', sweepId);
    return { ...state, at };
  };

  const sweeps = (): SweepsResponse => {
    const seq = source.lastEventSeq();
    const ids = cache.get('sweep-ids', seq, () => source.sweeps().map((s) => s.sweepId));
    let at = ids.seq;
    const list = ids.value.map((id) => {
      const st = sweepState(id, seq);
      at = Math.min(at, st.at);
      return sweepSummary(st.record, st.durations, now());
    });
    return { sweeps: list, lastEventSeq: at };
  };

  const sweep = (sweepId: string): SweepResponse => {
    const seq = source.lastEventSeq();
    const { record, durations, at } = sweepState(sweepId, seq);
    const report = cache.get<SweepReport & { regimes: string[] }>(`report:${sweepId}`, seq, () => {
      const outcomes = source.outcomes(sweepId);
      const regimes = [...new Set(outcomes.map((o) => (o.key.regime === 'stage' ? `stage ${o.key.stage ?? 0}` : o.key.regime)))];
      return { ...sweepReport(sweepId, source.sweepSource(sweepId)!, source.aggregationOf(sweepId), outcomes, opts.report), regimes };
    });
    return { sweep: sweepSummary(record, durations, now()), ...report.value, lastEventSeq: Math.min(at, report.seq) };
  };

  const trials = (sweepId: string, params: URLSearchParams): TrialGridResponse => {
    const q = parseGridQuery(params);
    const seq = source.lastEventSeq();
    sweepState(sweepId, seq);
    const records = cache.get<TrialGridRecord[]>(`grid:${sweepId}`, seq, () => source.trialGrid(sweepId));
    const page = queryGrid(records.value, q);
    return { ...page, offset: q.offset, limit: q.limit, lastEventSeq: records.seq };
  };

  const events = (sweepId: string, params: URLSearchParams): EventsResponse => {
    sweepState(sweepId, source.lastEventSeq());
    const types = (params.get('type') || '').split(',').filter(Boolean);
    for (const t of types) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new InvalidInputError(`query parameter type=${t}: expected one of ${EVENT_TYPES.join(', ')}`);
    }
    const before = params.get('before');
    const limit = Number(params.get('limit') || EVENT_PAGE);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError(`query parameter limit=${params.get('limit')}: expected 1..1000`);
    const beforeSeq = before ? resumePoint(undefined, before, 0) : undefined;
    const lastEventSeq = source.lastEventSeq();
    const list = source.events({
      sweepId,
      beforeSeq,
      types: types.length ? (types as (typeof EVENT_TYPES)[number][]) : undefined,
      taskId: params.get('task') || undefined,
      newestFirst: true,
      limit,
    });
    return { events: list.map(eventItem), lastEventSeq };
  };

  const trial = (taskId: string) => {
    const seq = source.lastEventSeq();
    const t = source.trial(taskId);
    if (!t) throw new DashboardNotFoundError('trial', taskId);
    return trialView(t, seq);
  };

  const signIn = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && new URL(origin).host !== req.headers.host) {
      send(res, 403, 'text/plain; charset=utf-8', 'sign-in from another site refused\n');
      return;
    }
    const form = await readForm(req);
    const next = safeNext(form.get('next'));
    const given = form.get('token') ?? '';
    if (opts.token && tokenMatches(opts.token, given)) {
      send(res, 303, 'text/plain; charset=utf-8', 'signed in\n', { location: next, 'set-cookie': sessionCookie(opts.token) });
    } else {
      send(res, 401, 'text/html; charset=utf-8', loginPage(next, true));
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard.local');
    const path = url.pathname;
    if (opts.loopbackOnly && !isLoopbackAddress(req.socket.remoteAddress)) {
      send(res, 403, 'text/plain; charset=utf-8', 'the dashboard answers loopback clients only (npf coordinator --ui all serves it to others)\n');
      return;
    }
    if (!isDashboardPath(path)) {
      send(res, 404, 'text/plain; charset=utf-8', `not found: ${path} (the dashboard is at /)\n`);
      return;
    }
    const assetType = ASSETS[path];
    if (assetType) return send(res, 200, assetType, asset(path.slice('/assets/'.length)), { 'cache-control': 'no-cache' });
    if (path === '/login') {
      if (req.method === 'POST') return signIn(req, res);
      return send(res, 200, 'text/html; charset=utf-8', loginPage(safeNext(url.searchParams.get('next')), false));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'the dashboard is read-only: GET only\n', { allow: 'GET' });
      return;
    }
    // A link with ?token=: exchange it for the session cookie and drop it from the address.
    const linkToken = url.searchParams.get('token');
    if (opts.token && linkToken !== null) {
      if (!tokenMatches(opts.token, linkToken)) return send(res, 401, 'text/html; charset=utf-8', loginPage(safeNext(path), true));
      url.searchParams.delete('token');
      return send(res, 303, 'text/plain; charset=utf-8', 'signed in\n', { location: `${path}${url.search}`, 'set-cookie': sessionCookie(opts.token) });
    }
    if (!isAuthorized(req.headers, opts.token)) {
      if (path.startsWith('/api/')) return json(res, 401, { error: 'sign in first: send Authorization: Bearer <token> or the session cookie' });
      return send(res, 303, 'text/plain; charset=utf-8', 'sign in first\n', { location: `/login?next=${encodeURIComponent(path + url.search)}` });
    }
    if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', appShell());
    if (path === '/api/sweeps') return json(res, 200, sweeps());
    if (path === '/api/stream') {
      const sweepId = url.searchParams.get('sweep') || undefined;
      if (sweepId) sweepState(sweepId, source.lastEventSeq());
      const lastId = req.headers['last-event-id'];
      const from = resumePoint(Array.isArray(lastId) ? lastId[0] : lastId, url.searchParams.get('after'), source.lastEventSeq());
      live.serve(req, res, sweepId, from);
      return;
    }
    const m = /^\/api\/(sweeps|trials)\/([^/]+)(?:\/(trials|events))?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[2]);
      if (m[1] === 'trials' && !m[3]) return json(res, 200, trial(id));
      if (m[1] === 'sweeps' && !m[3]) return json(res, 200, sweep(id));
      if (m[1] === 'sweeps' && m[3] === 'trials') return json(res, 200, trials(id, url.searchParams));
      if (m[1] === 'sweeps' && m[3] === 'events') return json(res, 200, events(id, url.searchParams));
    }
    if (path === '/favicon.ico') return send(res, 204, 'text/plain', '');
    throw new DashboardNotFoundError('page', path);
  };

  const fail = (req: IncomingMessage, res: ServerResponse, e: unknown): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const code = e instanceof DashboardNotFoundError ? 404 : e instanceof InvalidInputError ? 400 : 500;
    const message = e instanceof NpfError ? e.message : `internal error: ${String(e)}`;
    if ((req.url ?? '').startsWith('/api/')) json(res, code, { error: message });
    else send(res, code, 'text/plain; charset=utf-8', `${message}\n`);
  };

  return {
    handle(req, res) {
      try {
        route(req, res).catch((e: unknown) => fail(req, res, e));
      } catch (e) {
        fail(req, res, e);
      }
    },
    wake: () => live.wake(),
    close: () => live.close(),
  };
}
