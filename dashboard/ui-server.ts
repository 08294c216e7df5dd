/**
 * `npf ui`'s server: the dashboard of a local run directory (the store `npf run` or a coordinator
 * writes), over a read-only connection, on its own HTTP listener. Works while the run goes on
 * and after it ended.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidInputError } from '../common/errors.js';
import { parseListen } from '../common/http-endpoints.js';
import { isLoopbackAddress } from './auth.js';
import { StoreDataSource } from './data-source.js';
import { createDashboard } from './http-handler.js';
import { loadReportContext } from './report-context.js';

export interface UiServerOptions {
  dataDir: string;
  /** host:port (port 0 picks one). */
  listen: string;
  /** Require this token (bearer or sign-in); required to listen beyond loopback. */
  token?: string;
  env?: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
}

export interface UiServer {
  /** host:port bound. */
  address: string;
  /** The address to open in a browser. */
  url: string;
  close(): Promise<void>;
}

function loopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const { host, port } = parseListen(o.listen, '--http');
  if (!loopbackHost(host) && !o.token) {
    throw new InvalidInputError(`npf ui: listening on ${host} (beyond this machine) needs a token: give --token/--token-file or NPF_TOKEN, or listen on 127.0.0.1`);
  }
  const log = o.log ?? (() => undefined);
  const source = new StoreDataSource(o.dataDir);
  const dashboard = createDashboard({ source, token: o.token, loopbackOnly: false, report: await loadReportContext(o.env ?? process.env, log) });
  const server = createServer((req, res) => dashboard.handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    dashboard.close();
    source.close();
    throw new InvalidInputError(`npf ui: cannot listen on ${o.listen}: ${(e as Error).message}`);
  }
  const a = server.address() as AddressInfo;
  const address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return {
    address,
    url: `http://${address}/`,
    close: () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.closeAllConnections();
        server.close(() => {
          source.close();
          resolve();
        });
      }),
  };
}
