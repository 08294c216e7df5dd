/**
 * The worker's HTTP side: GET /metrics (prom-client text) and GET /healthz (200 while alive).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InvalidInputError } from '../common/errors.js';

export interface RunningHttp {
  /** host:port actually bound. */
  address: string;
  close(): Promise<void>;
}

/** Split 'host:port' (IPv6 as '[::1]:9465'); port 0 picks a free one. */
export function parseListen(listen: string, field = 'http listen address'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidInputError(`${field} '${listen}' is not host:port (e.g. 0.0.0.0:9465 or 127.0.0.1:0)`, { listen });
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function startHttp(listen: string, registry: Registry, health: () => boolean = () => true): Promise<RunningHttp> {
  const { host, port } = parseListen(listen);
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${String(err)}\n`);
        },
      );
    } else if (req.method === 'GET' && url === '/healthz') {
      const ok = health();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'unhealthy\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /metrics or /healthz\n');
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
