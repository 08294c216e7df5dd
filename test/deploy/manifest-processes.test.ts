/**
 * The rendered manifests' command lines start the real processes: the cpu overlay's coordinator
 * args (token file, NATS with its token file) and worker args (every $(VAR) filled in as the
 * kubelet would, from the container's env and limits) run `npf coordinator` and `npf worker`
 * against the shipped nats.conf on a real nats-server. Only what the pod's filesystem and network
 * give are mapped: secret paths and the data/work dirs to temp files, service names to loopback,
 * listen addresses to free ports. Checked: the worker offers its limits less the headroom, and on
 * SIGTERM drains with the grace derived from the pod's terminationGracePeriodSeconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_STREAM } from '../../events/event-schema.js';
import { DEFAULT_EVENT_STREAM_MAX_BYTES } from '../../events/event-stream.js';
import { drainGraceFor } from '../../worker/drain-budget.js';
import { NPF } from '../e2e/harness.js';
import { freePort, natsServerBinary, waitFor } from '../events/nats-server-process.js';
import { container, envValue, find, quantity, renderVariant, VARIANTS } from './render.js';
import type { K8sObject } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML */

interface Proc {
  child: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
let dir: string;
let objects: K8sObject[];

function start(cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env, NPF_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', err: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d: Buffer) => (p.out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (p.err += d.toString()));
  procs.push(p);
  return p;
}

/** Replace a flag's value in an args list (the flag must be there). */
function setFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`${flag} is not in ${args.join(' ')}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

/** $(VAR) expansion as the kubelet does it: env values, and resourceFieldRef limits with their divisor. */
function expand(c: any, args: string[]): string[] {
  const vars = new Map<string, string>();
  for (const e of c.env) {
    if (e.value !== undefined) vars.set(e.name, e.value);
    const ref = e.valueFrom?.resourceFieldRef;
    if (ref) vars.set(e.name, String(Math.ceil(quantity(c.resources[ref.resource.split('.')[0]][ref.resource.split('.')[1]]) / quantity(ref.divisor ?? '1'))));
  }
  return args.map((a) => a.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => vars.get(v) ?? `$(${v})`));
}

beforeAll(async () => {
  objects = renderVariant(VARIANTS[0]);
  dir = mkdtempSync(join(tmpdir(), 'npf-manifest-procs-'));
  for (const d of ['secrets', 'data', 'work']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'secrets/token'), 'manifest-test-token\n');
  writeFileSync(join(dir, 'secrets/worker-token'), 'manifest-worker-token\n');
  writeFileSync(join(dir, 'secrets/nats-token'), 'manifest-nats-token\n');
  const conf: string = find(objects, 'ConfigMap', 'npf-nats-config').data['nats.conf'];
  writeFileSync(join(dir, 'nats.conf'), conf.replace('store_dir: /data/jetstream', `store_dir: ${join(dir, 'js')}`));
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) process.kill(p.child.pid!, 'SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy/k8s - the rendered command lines run the real processes', () => {
  it('deploy/k8s - coordinator, NATS and a worker start from the cpu overlay args; the worker offers limits less headroom and drains within the pod grace', async () => {
    const natsPort = await freePort();
    const nats = start(natsServerBinary(), ['-c', join(dir, 'nats.conf'), '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(await freePort())], { NATS_TOKEN: 'manifest-nats-token' });
    await waitFor(() => /Server is ready/.test(nats.err), 'nats-server');

    const coordC = container(find(objects, 'StatefulSet', 'npf-coordinator'), 'coordinator');
    let coordArgs: string[] = coordC.args;
    coordArgs = setFlag(coordArgs, '--data-dir', join(dir, 'data'));
    coordArgs = setFlag(coordArgs, '--token-file', join(dir, 'secrets/token'));
    coordArgs = setFlag(coordArgs, '--worker-token-file', join(dir, 'secrets/worker-token'));
    coordArgs = setFlag(coordArgs, '--nats-token-file', join(dir, 'secrets/nats-token'));
    coordArgs = setFlag(coordArgs, '--nats', `nats://127.0.0.1:${natsPort}`);
    const grpcPort = await freePort();
    const coordHttp = await freePort();
    coordArgs = setFlag(coordArgs, '--listen', `127.0.0.1:${grpcPort}`);
    coordArgs = setFlag(coordArgs, '--http', `127.0.0.1:${coordHttp}`);
    const coord = start(process.execPath, [NPF, ...coordArgs, '--nats-required']);
    await waitFor(() => /npf coordinator: gRPC/.test(coord.out), `the coordinator (${coord.err})`, 30_000);

    const dep = find(objects, 'Deployment', 'npf-worker');
    const workerC = container(dep, 'worker');
    let workerArgs = expand(workerC, workerC.args);
    expect(workerArgs.join(' ')).not.toContain('$(');
    workerArgs = setFlag(workerArgs, '--coordinator', `127.0.0.1:${grpcPort}`);
    workerArgs = setFlag(workerArgs, '--token-file', join(dir, 'secrets/worker-token'));
    workerArgs = setFlag(workerArgs, '--work-dir', join(dir, 'work'));
    const worker = start(process.execPath, [NPF, ...workerArgs, '--http', `127.0.0.1:${await freePort()}`]);
    await waitFor(() => /registered/.test(worker.err), `the worker to register (${worker.err})`, 30_000);

    // Capacity seen by the coordinator: the container limits, less the memory headroom.
    const metrics = await (await fetch(`http://127.0.0.1:${coordHttp}/metrics`)).text();
    const capacity = (r: string) => Number(new RegExp(`^npf_resource_capacity\\{resource="${r}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(capacity('cpu')).toBe(quantity(workerC.resources.limits.cpu));
    expect(capacity('memory_mb')).toBe(quantity(workerC.resources.limits.memory) / 1024 ** 2 - Number(envValue(workerC, 'NPF_MEMORY_HEADROOM_MB')));
    expect(capacity('gpu')).toBe(0);

    // The coordinator reached NATS with its token and created the capped stream.
    const nc = await connect({ servers: `127.0.0.1:${natsPort}`, token: 'manifest-nats-token' });
    try {
      expect((await (await nc.jetstreamManager()).streams.info(DEFAULT_EVENT_STREAM)).config.max_bytes).toBe(DEFAULT_EVENT_STREAM_MAX_BYTES);
    } finally {
      await nc.close();
    }

    // SIGTERM: the drain grace is what fits the pod's grace period.
    process.kill(worker.child.pid!, 'SIGTERM');
    expect(await worker.exited).toBe(0);
    const graceS = dep.spec.template.spec.terminationGracePeriodSeconds;
    expect(worker.err).toContain(`${Math.round(drainGraceFor(graceS * 1000) / 1000)} s to finish`);
    process.kill(coord.child.pid!, 'SIGTERM');
    expect(await coord.exited).toBe(0);
  });
});
