/**
 * The NATS configuration the manifests ship (ConfigMap npf-nats-config), run by a real
 * nats-server: it requires the token, caps JetStream storage at what the manifests assume, and
 * the coordinator's event sink, given the token, creates the events stream with its byte limit.
 * Only the listen addresses and the storage dir are overridden (flags), as the pod's differ.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_STREAM } from '../../events/event-schema.js';
import { DEFAULT_EVENT_STREAM_MAX_BYTES } from '../../events/event-stream.js';
import { createNatsEventSink } from '../../events/nats-event-sink.js';
import { freePort, natsServerBinary, waitFor } from '../events/nats-server-process.js';
import { find, renderVariant, VARIANTS } from './render.js';

const TOKEN = 'nats-config-test-token';
let dir: string;
let child: ChildProcess | undefined;
let port: number;
let monitor: number;
let stderr = '';

beforeAll(async () => {
  const conf: string = find(renderVariant(VARIANTS[0]), 'ConfigMap', 'npf-nats-config').data['nats.conf'];
  dir = mkdtempSync(join(tmpdir(), 'npf-nats-config-'));
  const file = join(dir, 'nats.conf');
  writeFileSync(file, conf.replace('store_dir: /data/jetstream', `store_dir: ${join(dir, 'js')}`));
  port = await freePort();
  monitor = await freePort();
  child = spawn(natsServerBinary(), ['-c', file, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)], { env: { ...process.env, NATS_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(() => {
    if (child!.exitCode !== null) throw new Error(`nats-server refused the config: ${stderr}`);
    return /Server is ready/.test(stderr);
  }, 'nats-server with the shipped config');
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy/nats - the shipped nats-server configuration', () => {
  it('deploy/nats - a client without the token is refused; with it, it connects', async () => {
    await expect(connect({ servers: `127.0.0.1:${port}`, timeout: 5000, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: `127.0.0.1:${port}`, token: 'wrong', timeout: 5000, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
    const nc = await connect({ servers: `127.0.0.1:${port}`, token: TOKEN, timeout: 5000 });
    await nc.close();
  });

  it('deploy/nats - JetStream storage is capped (max_file_store 1536MB = 1536 MiB), above the stream cap', async () => {
    const jsz = (await (await fetch(`http://127.0.0.1:${monitor}/jsz`)).json()) as { config: { max_storage: number; max_memory: number } };
    expect(jsz.config.max_storage).toBe(1536 * 1024 ** 2);
    expect(jsz.config.max_memory).toBe(64 * 1024 ** 2);
    expect(jsz.config.max_storage).toBeGreaterThan(DEFAULT_EVENT_STREAM_MAX_BYTES);
  });

  it('deploy/nats - the coordinator sink authenticates with the token and creates the events stream with its byte limit', async () => {
    const sink = await createNatsEventSink({ url: `nats://127.0.0.1:${port}`, token: TOKEN, required: true, registry: new Registry(), log: () => undefined });
    try {
      sink.publish({ type: 'sweep.complete', sweepId: 's1', payload: { succeeded: 1, failed: 0, cancelled: 0 } });
      await sink.flushed();
      expect(sink.stats().published).toBe(1);
    } finally {
      await sink.close();
    }
    const nc = await connect({ servers: `127.0.0.1:${port}`, token: TOKEN, timeout: 5000 });
    try {
      const info = await (await nc.jetstreamManager()).streams.info(DEFAULT_EVENT_STREAM);
      expect(info.config.max_bytes).toBe(DEFAULT_EVENT_STREAM_MAX_BYTES);
      expect(info.state.messages).toBe(1);
    } finally {
      await nc.close();
    }
  });

  it('deploy/nats - without the token the sink cannot start when NATS is required', async () => {
    await expect(createNatsEventSink({ url: `nats://127.0.0.1:${port}`, required: true, registry: new Registry(), log: () => undefined })).rejects.toThrow(/cannot connect to NATS|Authorization/i);
  });
});
