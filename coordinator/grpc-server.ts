/**
 * The rpc edge: SweepService and WorkerService over @grpc/grpc-js. Every handler goes through
 * `guard`, which checks the bearer token, counts the request in npf_grpc_requests_total, and
 * turns any thrown error into a gRPC status with `toGrpcStatus` (the one mapping function).
 * Behaviour lives in SweepCoordinator; this file only converts messages.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import {
  SweepServiceService,
  WorkerServiceService,
  type DownloadArtifactRequest,
  type DownloadArtifactResponse,
  type SweepServiceServer,
  type UploadArtifactRequest,
  type UploadArtifactResponse,
  type WatchSweepRequest,
  type WatchSweepResponse,
  type WorkerServiceServer,
} from '../gen/npf/v1/sweep.js';
import { DOWNLOAD_CHUNK_BYTES, type ArtifactUpload } from './artifact-store.js';
import { ArtifactMismatchError, AuthError, InvalidRequestError } from './errors.js';
import { toGrpcStatus } from './grpc-status.js';
import { ERROR_CODE_KEY } from '../common/error-metadata.js';
import type { CoordinatorMetrics } from './metrics.js';
import { toCompletionReport, toSweepInfo, toTaskLease, toUploadHeader, toWatchSweepResponse } from './grpc-mapping.js';
import type { SweepCoordinator, SweepEvent, UploadHeader } from './sweep-coordinator.js';
import type { ExpandedTask } from './sweep-types.js';

/** Parse + expand a sweep spec (coordinator/sweep-spec); throws SweepSpecError etc. with file:line. */
export type SweepExpander = (
  specYaml: string,
  fileName: string,
  overrides: readonly string[],
) => { name: string; tasks: ExpandedTask[] };

export interface GrpcEdgeOptions {
  core: SweepCoordinator;
  expand: SweepExpander;
  /** Results table of a sweep in a format ('markdown', 'csv', 'json', 'latex'). */
  renderResults: (sweepId: string, format: string) => { table: string; complete: boolean };
  token?: string;
  metrics?: CoordinatorMetrics;
  log: (line: string) => void;
  /** Aborted when the server stops: ends long polls and watch streams. */
  stopSignal: AbortSignal;
}

const BEARER = /^Bearer\s+(.+)$/i;

const digests = new Map<string, Buffer>();

/** Refuse a call whose `authorization` metadata is not `Bearer <token>`. */
export function checkAuth(metadata: grpc.Metadata, token: string | undefined): void {
  if (!token) return;
  let expected = digests.get(token);
  if (!expected) {
    expected = crypto.createHash('sha256').update(token).digest();
    digests.set(token, expected);
  }
  const values = metadata.get('authorization');
  if (values.length === 0) {
    throw new AuthError('missing authorization metadata: send "authorization: Bearer <token>" (npf: --token, --token-file or NPF_TOKEN)');
  }
  const m = BEARER.exec(String(values[0]));
  if (!m) throw new AuthError('malformed authorization metadata: expected "Bearer <token>"');
  // Compare digests: constant time, and no length leak.
  const given = crypto.createHash('sha256').update(m[1].trim()).digest();
  if (!crypto.timingSafeEqual(given, expected)) throw new AuthError('invalid token: the coordinator refused the bearer token');
}

function codeName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

export function buildServices(o: GrpcEdgeOptions): { sweep: SweepServiceServer; worker: WorkerServiceServer } {
  // Labelled children cached: label hashing per call is measurable at thousands of calls/s.
  const counters = new Map<string, { inc(): void }>();
  const count = (method: string, code: grpc.status): void => {
    if (!o.metrics) return;
    const key = `${method}/${code}`;
    let c = counters.get(key);
    if (!c) {
      c = o.metrics.grpcRequests.labels({ method, code: codeName(code) });
      counters.set(key, c);
    }
    c.inc();
  };
  const fail = (method: string, err: unknown): grpc.ServiceError => {
    const s = toGrpcStatus(err);
    if (s.code === grpc.status.INTERNAL) o.log(`${method}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    count(method, s.code);
    const metadata = new grpc.Metadata();
    if (s.errorCode) metadata.set(ERROR_CODE_KEY, s.errorCode);
    return Object.assign(new Error(s.details), { code: s.code, details: s.details, metadata });
  };

  /** A unary handler: auth, run, map errors, count. */
  function unary<Req, Res>(
    method: string,
    fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => {
          checkAuth(call.metadata, o.token);
          return fn(call.request, call);
        })
        .then(
          (res) => {
            count(method, grpc.status.OK);
            callback(null, res);
          },
          (err: unknown) => callback(fail(method, err)),
        );
    };
  }

  const core = o.core;

  const sweep: SweepServiceServer = {
    submitSweep: unary('SubmitSweep', async (req) => {
      if (!req.specYaml.trim()) throw new InvalidRequestError('spec_yaml is empty: send the sweep spec text');
      const fileName = req.fileName || 'sweep.yaml';
      const { name, tasks } = o.expand(req.specYaml, fileName, req.overrides);
      return core.submitSweep({ name, fileName, specYaml: req.specYaml, overrides: req.overrides, tasks });
    }),
    getSweep: unary('GetSweep', (req) => ({ sweep: toSweepInfo(core.getSweep(req.sweepId)) })),
    listSweeps: unary('ListSweeps', () => ({ sweeps: core.listSweeps().map(toSweepInfo) })),
    cancelSweep: unary('CancelSweep', async (req) => ({ cancelledTasks: await core.cancelSweep(req.sweepId) })),
    getResults: unary('GetResults', (req) => {
      core.getSweep(req.sweepId);
      return o.renderResults(req.sweepId, req.format || 'markdown');
    }),
    watchSweep: (call: grpc.ServerWritableStream<WatchSweepRequest, WatchSweepResponse>) => {
      const method = 'WatchSweep';
      let unsubscribe = (): void => {};
      const end = (): void => {
        unsubscribe();
        o.stopSignal.removeEventListener('abort', end);
        if (!call.writableEnded) call.end();
      };
      try {
        checkAuth(call.metadata, o.token);
        const req = call.request;
        const info = core.getSweep(req.sweepId);
        count(method, grpc.status.OK);
        let last = 0;
        const send = (e: SweepEvent): boolean => {
          if (e.sweepId !== req.sweepId || e.sequence <= last) return false;
          last = e.sequence;
          call.write(toWatchSweepResponse(e));
          return e.type === 'sweep_complete';
        };
        // Subscribe and replay in the same turn: nothing committed can fall between them.
        unsubscribe = core.onEvent((e) => {
          if (send(e)) end();
        });
        const past = core.events(req.sweepId);
        if (req.fromStart) for (const e of past) send(e);
        else last = past.length ? past[past.length - 1].sequence : 0;
        if (info.state !== 'running') {
          // Finished: say so (the last sweep_complete) and end.
          const done = [...past].reverse().find((e) => e.type === 'sweep_complete');
          if (done && !req.fromStart) {
            last = done.sequence - 1;
            send(done);
          }
          end();
          return;
        }
        call.on('cancelled', end);
        o.stopSignal.addEventListener('abort', end, { once: true });
      } catch (err) {
        unsubscribe();
        call.emit('error', fail(method, err));
      }
    },
  };

  const worker: WorkerServiceServer = {
    registerWorker: unary('RegisterWorker', (req) =>
      core.registerWorker({
        hostname: req.hostname,
        resources: req.resources ?? { cpu: 0, gpu: 0, memoryMb: 0 },
        backends: req.backends,
        version: req.version,
      }),
    ),
    leaseTasks: unary('LeaseTasks', async (req, call) => {
      const ac = new AbortController();
      const abort = (): void => ac.abort();
      call.on('cancelled', abort);
      o.stopSignal.addEventListener('abort', abort, { once: true });
      try {
        return { leases: (await core.leaseTasks(req.workerId, req.maxTasks, req.waitMs, ac.signal)).map(toTaskLease) };
      } finally {
        o.stopSignal.removeEventListener('abort', abort);
      }
    }),
    heartbeat: unary('Heartbeat', (req) =>
      core.heartbeat(
        req.workerId,
        req.tasks.map((t) => ({ taskId: t.taskId, fencingToken: t.fencingToken, epoch: t.epoch, epochsJson: t.epochsJson })),
        req.draining,
      ),
    ),
    completeTask: unary('CompleteTask', async (req) => {
      const res = await core.completeTask(toCompletionReport(req), req.leaseNext);
      return { nextLeases: res.nextLeases.map(toTaskLease) };
    }),
    completeTasks: unary('CompleteTasks', async (req) => {
      const res = await core.completeTasks(
        req.items.map(toCompletionReport),
        req.leaseNext,
      );
      return {
        // Each refused item gets the status CompleteTask would have answered for it.
        outcomes: res.outcomes.map((x) => {
          if (x.ok) return { taskId: x.taskId, ok: true, code: grpc.status.OK, message: '' };
          const s = toGrpcStatus(x.error);
          if (s.code === grpc.status.INTERNAL) {
            o.log(`CompleteTasks item ${x.taskId}: ${x.error instanceof Error ? (x.error.stack ?? x.error.message) : String(x.error)}`);
          }
          return { taskId: x.taskId, ok: false, code: s.code, message: s.details };
        }),
        nextLeases: res.nextLeases.map(toTaskLease),
      };
    }),
    failTask: unary('FailTask', (req) => core.failTask(req.workerId, req.taskId, req.fencingToken, req.error, req.retryable)),
    uploadArtifact: (call: grpc.ServerReadableStream<UploadArtifactRequest, UploadArtifactResponse>, callback) => {
      const method = 'UploadArtifact';
      let header: UploadHeader | undefined;
      let upload: ArtifactUpload | undefined;
      let failed = false;
      const refuse = (err: unknown): void => {
        if (failed) return;
        failed = true;
        upload?.abort();
        callback(fail(method, err));
      };
      try {
        checkAuth(call.metadata, o.token);
      } catch (err) {
        refuse(err);
        return;
      }
      call.on('data', (msg: UploadArtifactRequest) => {
        if (failed) return;
        try {
          if (msg.header) {
            if (header) throw new ArtifactMismatchError('artifact upload sent a second header: send one header, then data chunks');
            header = toUploadHeader(msg.header);
            upload = core.beginUpload(header);
          } else if (msg.chunk) {
            if (!upload) throw new ArtifactMismatchError('artifact upload sent data before its header: send the header first');
            upload.append(msg.chunk);
          }
        } catch (err) {
          refuse(err);
        }
      });
      call.on('end', () => {
        if (failed) return;
        if (!upload || !header) {
          refuse(new ArtifactMismatchError('artifact upload ended without a header'));
          return;
        }
        const [u, hd] = [upload, header];
        Promise.resolve()
          .then(() => core.finishUpload(u, hd))
          .then(
          (res) => {
            count(method, grpc.status.OK);
            callback(null, res);
          },
          refuse,
        );
      });
      call.on('error', () => {
        failed = true;
        upload?.abort();
      });
      call.on('cancelled', () => {
        failed = true;
        upload?.abort();
      });
    },
    downloadArtifact: (call: grpc.ServerWritableStream<DownloadArtifactRequest, DownloadArtifactResponse>) => {
      const method = 'DownloadArtifact';
      let file: string;
      try {
        checkAuth(call.metadata, o.token);
        file = core.artifactPath(call.request.sha256);
      } catch (err) {
        call.emit('error', fail(method, err));
        return;
      }
      const size = fs.statSync(file).size;
      const stream = fs.createReadStream(file, { highWaterMark: DOWNLOAD_CHUNK_BYTES });
      let first = true;
      stream.on('data', (chunk) => {
        const ok = call.write({ chunk: chunk as Buffer, size: first ? size : 0 });
        first = false;
        if (!ok) {
          stream.pause();
          call.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => {
        if (first) call.write({ chunk: Buffer.alloc(0), size: 0 });
        count(method, grpc.status.OK);
        call.end();
      });
      stream.on('error', (err) => call.emit('error', fail(method, err)));
      call.on('cancelled', () => stream.destroy());
    },
  };

  return { sweep, worker };
}

/** Bind a grpc-js server with both services. Returns the bound port. */
export async function startGrpcServer(
  services: { sweep: SweepServiceServer; worker: WorkerServiceServer },
  listen: string,
  credentials: grpc.ServerCredentials,
): Promise<{ server: grpc.Server; port: number }> {
  // channelz off: its per-call bookkeeping costs CPU and nothing here reads it.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  server.addService(SweepServiceService, services.sweep);
  server.addService(WorkerServiceService, services.worker);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port };
}
