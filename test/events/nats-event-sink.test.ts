import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createNatsEventSink, type NatsEventSink } from '../../events/nats-event-sink.js';
import { followSweepFromNats } from '../../events/follow-sweep.js';
import { NatsUnavailableError, NatsUrlError } from '../../events/errors.js';
import type { NpfEvent, NpfEventInput } from '../../events/event-schema.js';
import { freePort, startNatsServer, waitFor, type NatsServerProcess } from './nats-server-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function server(port?: number, dir?: string): Promise<NatsServerProcess> {
  const storeDir = dir ?? mkdtempSync(join(tmpdir(), 'npf-nats-'));
  if (!dir) cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
  const s = await startNatsServer(port ?? (await freePort()), storeDir);
  cleanups.push(() => s.kill());
  return s;
}

async function sink(opts: Parameters<typeof createNatsEventSink>[0]): Promise<NatsEventSink> {
  const s = await createNatsEventSink(opts);
  cleanups.push(() => s.close());
  return s;
}

function progress(sweepId: string, taskId: string, epoch: number): NpfEventInput {
  return { type: 'task.progress', sweepId, taskId, payload: { attempt: 1, epoch, epochs: 10, testAccuracy: 0.5 + epoch / 100 } };
}

function complete(sweepId: string): NpfEventInput {
  return { type: 'sweep.complete', sweepId, payload: { succeeded: 1, failed: 0, cancelled: 0 } };
}

async function replay(url: string, sweepId: string): Promise<{ events: NpfEvent[]; missed: number; end: string }> {
  const events: NpfEvent[] = [];
  const ac = new AbortController();
  const res = await followSweepFromNats({ url, sweepId, fromStart: true, onEvent: (e) => void events.push(e), signal: ac.signal });
  return { events, missed: res.missed, end: res.end };
}

async function metric(registry: Registry, name: string): Promise<number> {
  const m = await registry.getSingleMetric(name)!.get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

describe('events - NATS JetStream event sink (real nats-server)', () => {
  it('events - a late subscriber replays one sweep in publish order, and only that sweep', async () => {
    const nats = await server();
    const lines: string[] = [];
    const s = await sink({ url: nats.url, log: (l) => lines.push(l) });
    const sweep = `sweep.${randomUUID()}`; // a '.' in the id must not split the subject
    const other = `other-${randomUUID()}`;
    s.publish({ type: 'sweep.submitted', sweepId: sweep, payload: { name: 'table2', tasks: 2 } });
    s.publish({ type: 'task.leased', sweepId: sweep, taskId: 'a'.repeat(64), payload: { workerId: 'w1', attempt: 1 } });
    for (let epoch = 1; epoch <= 5; epoch++) {
      s.publish(progress(sweep, 'a'.repeat(64), epoch));
      s.publish(progress(other, 'b'.repeat(64), epoch));
    }
    s.publish({ type: 'task.succeeded', sweepId: sweep, taskId: 'a'.repeat(64), payload: { attempt: 1, bestTestAccuracy: 0.55, bestEpoch: 5 } });
    s.publish(complete(sweep));
    await s.flushed();
    expect(s.stats()).toMatchObject({ published: 14, dropped: 0, buffered: 0 });

    const { events, missed, end } = await replay(nats.url, sweep);
    expect(end).toBe('complete');
    expect(missed).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['sweep.submitted', 'task.leased', ...Array(5).fill('task.progress'), 'task.succeeded', 'sweep.complete']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.every((e) => e.v === 1 && e.sweepId === sweep)).toBe(true);
    expect(events.filter((e) => e.type === 'task.progress').map((e) => (e.payload as { epoch: number }).epoch)).toEqual([1, 2, 3, 4, 5]);
  });

  it('events - NATS killed mid-sweep: publish keeps going, reconnects, flushes the gap and counts the disconnect', async () => {
    const port = await freePort();
    let nats = await server(port);
    const registry = new Registry();
    const lines: string[] = [];
    const s = await sink({ url: nats.url, registry, reconnectTimeWaitMs: 100, log: (l) => lines.push(l) });
    const sweep = `s-${randomUUID()}`;
    for (let e = 1; e <= 3; e++) s.publish(progress(sweep, 't1', e));
    await s.flushed();

    await nats.kill();
    await waitFor(() => !s.stats().connected, 'the sink to notice the disconnect');
    // The sweep goes on: publish returns synchronously, never throws.
    for (let e = 4; e <= 8; e++) expect(s.publish(progress(sweep, 't1', e))).toBeUndefined();
    s.publish(complete(sweep));
    expect(s.stats()).toMatchObject({ connected: false, buffered: 6, dropped: 0 });
    expect(lines.some((l) => l.startsWith(`NATS disconnected from`) && l.endsWith('; buffering events'))).toBe(true);

    nats = await server(port, nats.storeDir);
    await waitFor(() => s.stats().connected && s.stats().buffered === 0, 'reconnect and flush');
    await s.flushed();
    await waitFor(() => lines.some((l) => l.startsWith('NATS reconnected after')), 'the reconnect log line');
    expect(lines.find((l) => l.startsWith('NATS reconnected after'))).toMatch(/^NATS reconnected after \d+\.\d s; published 6 buffered events, dropped 0$/);
    expect(await metric(registry, 'npf_nats_disconnects_total')).toBe(1);
    expect(await metric(registry, 'npf_nats_events_dropped_total')).toBe(0);

    const { events, missed } = await replay(nats.url, sweep);
    expect(missed).toBe(0);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.at(-1)!.type).toBe('sweep.complete');
  });

  it('events - overflowing the buffer during the gap drops the oldest events and counts them', async () => {
    const port = await freePort();
    let nats = await server(port);
    const registry = new Registry();
    const lines: string[] = [];
    const s = await sink({ url: nats.url, registry, bufferSize: 3, reconnectTimeWaitMs: 100, log: (l) => lines.push(l) });
    const sweep = `s-${randomUUID()}`;
    s.publish(progress(sweep, 't1', 1));
    await s.flushed();
    await nats.kill();
    await waitFor(() => !s.stats().connected, 'the sink to notice the disconnect');
    for (let e = 2; e <= 6; e++) s.publish(progress(sweep, 't1', e)); // seq 2..6: 2 and 3 are dropped
    s.publish(complete(sweep)); // seq 7; buffer keeps 5, 6, 7 (drops 4)
    expect(s.stats()).toMatchObject({ buffered: 3, dropped: 3 });

    nats = await server(port, nats.storeDir);
    await waitFor(() => s.stats().connected && s.stats().buffered === 0, 'reconnect and flush');
    await waitFor(() => lines.some((l) => l.startsWith('NATS reconnected after')), 'the reconnect log line');
    expect(lines.find((l) => l.startsWith('NATS reconnected after'))).toMatch(/published 3 buffered events, dropped 3$/);
    expect(await metric(registry, 'npf_nats_events_dropped_total')).toBe(3);
    expect(await metric(registry, 'npf_nats_disconnects_total')).toBe(1);

    const { events, missed } = await replay(nats.url, sweep);
    expect(events.map((e) => e.seq)).toEqual([1, 5, 6, 7]);
    expect(missed).toBe(3);
  });

  it('events - unreachable NATS at start-up: required fails with one clear error, optional warns, buffers and connects later', async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const err = await createNatsEventSink({ url, required: true, log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: `));

    const lines: string[] = [];
    const s = await sink({ url, reconnectTimeWaitMs: 100, log: (l) => lines.push(l) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cannot connect to NATS at .*; events are buffered \(up to 10000\) and NATS is retried every 0\.1 s$/);
    const sweep = `s-${randomUUID()}`;
    s.publish(progress(sweep, 't', 1));
    s.publish(complete(sweep));
    expect(s.stats()).toMatchObject({ connected: false, buffered: 2 });

    const nats = await server(port);
    await waitFor(() => s.stats().connected && s.stats().buffered === 0, 'the late first connect and flush');
    await waitFor(() => lines.some((l) => l.startsWith('NATS connected to')), 'the connect log line');
    expect(lines.find((l) => l.startsWith('NATS connected to'))).toMatch(/published 2 buffered events, dropped 0$/);
    const { events } = await replay(nats.url, sweep);
    expect(events.map((e) => e.type)).toEqual(['task.progress', 'sweep.complete']);
  });

  it('events - a malformed URL is one clear error whether or not NATS is required', async () => {
    await expect(createNatsEventSink({ url: 'http://127.0.0.1:4222', log: () => undefined })).rejects.toThrow(NatsUrlError);
    await expect(createNatsEventSink({ url: 'http://127.0.0.1:4222' })).rejects.toThrow("NATS url 'http://127.0.0.1:4222' has scheme 'http', expected nats:// or tls://");
    await expect(createNatsEventSink({ url: ' , ' })).rejects.toThrow('NATS url is empty');
  });

  it('events - following a sweep on a server without the events stream says so', async () => {
    const nats = await server();
    await expect(followSweepFromNats({ url: nats.url, sweepId: 'x', fromStart: true, onEvent: () => undefined })).rejects.toThrow(
      /cannot follow sweep 'x' on NATS at .*no events were ever published to stream 'NPF_EVENTS'/,
    );
  });
});
