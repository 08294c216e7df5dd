/**
 * Test helper: a real nats-server (Debian package) with JetStream on a free loopback port and
 * its own storage dir, ended by its pid.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

export function natsServerBinary(): string {
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server']) if (existsSync(p)) return p;
  try {
    return execFileSync('which', ['nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('nats-server not found: apt-get install nats-server (.ci/run does)');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Poll `cond` every 20 ms; throws naming `what` after `limitMs` (a safety net, not a timing assertion). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface NatsServerProcess {
  port: number;
  url: string;
  storeDir: string;
  child: ChildProcess;
  /** Kill by pid (SIGKILL by default) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startNatsServer(port: number, storeDir: string): Promise<NatsServerProcess> {
  const child = spawn(natsServerBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  await waitFor(async () => {
    if (dead) throw new Error(`nats-server exited at start-up: ${stderr}`);
    return /Server is ready/.test(stderr) && (await canConnect(port));
  }, `nats-server on port ${port}`);
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    child,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (dead || child.pid === undefined) return;
      process.kill(child.pid, signal);
      await exited;
    },
  };
}
