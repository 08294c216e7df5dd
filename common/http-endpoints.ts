/**
 * The small HTTP side of a coordinator or worker process: GET /metrics (prom-client text),
 * /healthz (the process is alive) and optionally /readyz (ready to serve). Any other request
 * goes to `fallback` when one is given (a coordinator's web dashboard), else gets a 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InvalidInputError } from './errors.js';

export interface HttpEndpoints {
  /** host:port actually bound. */
  address: string;
  close(): Promise<void>;
}

export interface HttpChecks {
  /** /healthz: 200 while true (default: always). */
  healthy?: () => boolean;
  /** /readyz: 200 while true; without it there is no /readyz. */
  ready?: () => boolean;
  /** Answers every request that is not GET /metrics, /healthz or /readyz. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Split 'host:port' (IPv6 as '[::1]:9465'); port 0 picks a free one. */
export function parseListen(listen: string, field = 'http listen address'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidInputError(`${field} '${listen}' is not host:port (e.g. 0.0.0.0:9465 or 127.0.0.1:0)`, { listen });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function startHttpEndpoints(listen: string, registry: Registry, checks: HttpChecks = {}): Promise<HttpEndpoints> {
  const { host, port } = parseListen(listen);
  const text = (res: import('node:http').ServerResponse, code: number, body: string): void => {
    res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
  };
  const paths = checks.ready ? '/metrics, /healthz or /readyz' : '/metrics or /healthz';
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const probe = url === '/metrics' || url === '/healthz' || (url === '/readyz' && !!checks.ready);
    if (checks.fallback && !(probe && (req.method === 'GET' || req.method === 'HEAD'))) {
      checks.fallback(req, res);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end('method not allowed\n');
    } else if (url === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => text(res, 500, `metrics failed: ${String(err)}\n`),
      );
    } else if (url === '/healthz') {
      const ok = checks.healthy?.() ?? true;
      text(res, ok ? 200 : 503, ok ? 'ok\n' : 'unhealthy\n');
    } else if (url === '/readyz' && checks.ready) {
      const ok = checks.ready();
      text(res, ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
    } else {
      text(res, 404, `not found: try ${paths}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    address: `${shownHost}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
