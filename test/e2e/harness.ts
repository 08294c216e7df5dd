/**
 * End-to-end harness: real processes (`node bin/npf.js ...`) on loopback, each test with its own
 * temp dir and ports; every spawned process is tracked and killed by pid in `killAll`.
 * Needs dist/ (the test script builds before vitest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NPF = join(ROOT, 'bin', 'npf.js');

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  out: string;
  err: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class E2E {
  readonly dir: string;
  readonly procs: Proc[] = [];

  constructor(label: string) {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` before the e2e tests');
    this.dir = mkdtempSync(join(tmpdir(), `npf-e2e-${label}-`));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  write(name: string, text: string): string {
    const p = this.path(name);
    writeFileSync(p, text);
    return p;
  }

  /** Spawn `node <args>` with extra env; stdout/stderr are collected. */
  spawnNode(name: string, args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn(process.execPath, args, { cwd: this.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = {
      name,
      child,
      pid: child.pid!,
      out: '',
      err: '',
      exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))),
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (proc.out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (proc.err += d));
    this.procs.push(proc);
    return proc;
  }

  npf(name: string, args: string[], env: Record<string, string> = {}): Proc {
    return this.spawnNode(name, [NPF, ...args], env);
  }

  /** A worker process leasing from `address` (one trial at a time, no HTTP). */
  worker(name: string, address: string, env: Record<string, string> = {}, extra: string[] = []): Proc {
    return this.npf(name, ['worker', '--coordinator', address, '--concurrency', '1', '--cpus', '1', '--http', 'off', '--work-dir', this.path(name), '--drain-grace-s', '1', ...extra], env);
  }

  async killAll(): Promise<void> {
    for (const p of this.procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(this.procs.map((p) => p.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port free right now (for a coordinator that must come back on the same address). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, procs: Proc[] = []): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) {
      const logs = procs.map((p) => `--- ${p.name} (pid ${p.pid}) stderr:\n${p.err.slice(-3000)}`).join('\n');
      throw new Error(`timed out waiting for ${what}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The worker id a worker process logged when it registered. */
export function workerIdOf(p: Proc): string | undefined {
  return /npf worker (\S+): registered/.exec(p.err)?.[1];
}

/**
 * A sweep of tiny trials (FC 8x2, 100 MNIST examples, wasm): by default ReLU parents, FLNPF
 * dependants and FRNPF-II. `epochs` is a number or a YAML flow map (`{ relu: 4, default: 12 }`).
 */
export function fakeSweepYaml(name: string, seeds: number, epochs: number | string, regimes: readonly string[] = ['relu', 'flnpf', 'frnpf-ii']): string {
  return `name: ${name}
axes:
  datasets:
    - name: mnist
      trainSubset: { first: 100 }
      testSubset: { first: 100 }
  archs:
    - kind: fc
      width: 8
      depth: 2
  optimizers:
    - name: sgd
      lrs: [0.01]
  regimes: [${regimes.join(', ')}]
  seedCount: ${seeds}
epochs: ${epochs}
batchSize: 32
backend: wasm
resources: { cpu: 1, gpu: 0, memoryMb: 256 }
`;
}
