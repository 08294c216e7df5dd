/**
 * The rpc edge: SweepService and WorkerService over @grpc/grpc-js. The token check (with its role)
 * and request counting happen once for every call in the server interceptor (grpc-interceptor.ts);
 * a handler here checks the worker secret of every WorkerService call that names a worker
 * (`authenticateWorker`, before anything else), converts messages (grpc-mapping.ts), calls
 * SweepCoordinator, and answers a thrown typed error with its status (`toServiceError`, the one
 * mapping in grpc-status.ts).
 */
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
import { isSweepEnd } from '../events/event-schema.js';
import { guardDecoding } from './decode-guard.js';
import { DOWNLOAD_CHUNK_BYTES, type ArtifactUpload } from './artifact-store.js';
import { ArtifactMismatchError, InvalidRequestError, LimitExceededError } from './errors.js';
import { LIMITS } from './limits.js';
import { toCompletionReport, toSweepInfo, toTaskLease, toUploadHeader, toWatchSweepResponse } from './grpc-mapping.js';
import { toGrpcStatus, toServiceError } from './grpc-status.js';
import type { SweepAggregation, SweepCoordinator, SweepEvent, SweepSource, UploadHeader } from './sweep-coordinator.js';
import type { ExpandedTask } from './sweep-types.js';

/** Parse + expand a sweep spec (coordinator/sweep-spec); throws SweepSpecError etc. with file:line. */
export type SweepExpander = (
  specYaml: string,
  fileName: string,
  overrides: readonly string[],
) => { name: string; tasks: ExpandedTask[]; aggregation: SweepAggregation };

export interface GrpcEdgeOptions {
  core: SweepCoordinator;
  expand: SweepExpander;
  /** The spec a sweep was submitted with, resolved (defaults, variables); undefined when it no longer parses. */
  resolveSpec: (source: SweepSource) => unknown;
  /** Results table of a sweep in a format ('markdown', 'csv', 'json', 'latex'). */
  renderResults: (sweepId: string, format: string) => { table: string; complete: boolean };
  log: (line: string) => void;
  /** Aborted when the server stops: ends long polls and watch streams. */
  stopSignal: AbortSignal;
  /** An upload idle this long is ended (RESOURCE_EXHAUSTED) and its temp file removed (default LIMITS.uploadIdleMs). */
  uploadIdleMs?: number;
  /** Events a watcher may fall behind before it is closed with RESOURCE_EXHAUSTED (default LIMITS.watchBacklog). */
  watchBacklog?: number;
}

function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export function buildServices(o: GrpcEdgeOptions): { sweep: SweepServiceServer; worker: WorkerServiceServer } {
  /** The error a handler answers with; one the client only sees as INTERNAL is logged with its stack. */
  const fail = (call: { getPath(): string }, err: unknown): grpc.ServiceError => {
    const e = toServiceError(err);
    if (e.code === grpc.status.INTERNAL) o.log(`${call.getPath()}: ${stackOf(err)}`);
    return e;
  };

  /** A unary handler written as a (possibly async) function of the request. */
  function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => fn(call.request, call))
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(fail(call, err)),
        );
    };
  }

  const core = o.core;

  const sweep: SweepServiceServer = {
    submitSweep: unary(async (req) => {
      if (!req.specYaml.trim()) throw new InvalidRequestError('spec_yaml is empty: send the sweep spec text');
      const fileName = req.fileName || 'sweep.yaml';
      const { name, tasks, aggregation } = o.expand(req.specYaml, fileName, req.overrides);
      return core.submitSweep({ name, fileName, specYaml: req.specYaml, overrides: req.overrides, tasks, aggregation });
    }),
    getSweep: unary((req) => {
      const sweep = toSweepInfo(core.getSweep(req.sweepId));
      if (!req.includeSpec) return { sweep, specYaml: '', fileName: '', overrides: [], resolvedSpecJson: '' };
      const source = core.sweepSource(req.sweepId);
      const resolved = o.resolveSpec(source);
      return { sweep, ...source, resolvedSpecJson: resolved === undefined ? '' : JSON.stringify(resolved) };
    }),
    listSweeps: unary(() => ({ sweeps: core.listSweeps().map(toSweepInfo) })),
    cancelSweep: unary(async (req) => {
      const ids = req.taskIds.length > 0 ? await core.cancelTrials(req.sweepId, req.taskIds) : await core.cancelSweepTasks(req.sweepId);
      return { cancelledTasks: ids.length, cancelledTaskIds: ids };
    }),
    getResults: unary((req) => {
      core.getSweep(req.sweepId);
      return o.renderResults(req.sweepId, req.format || 'markdown');
    }),
    watchSweep: (call: grpc.ServerWritableStream<WatchSweepRequest, WatchSweepResponse>) => {
      let unsubscribe = (): void => {};
      const end = (): void => {
        unsubscribe();
        o.stopSignal.removeEventListener('abort', end);
        if (!call.writableEnded) call.end();
      };
      try {
        const req = call.request;
        const info = core.getSweep(req.sweepId);
        let last = 0;
        // Backpressure: events written while the client does not read are counted until 'drain';
        // a consumer too far behind is closed instead of buffered without bound.
        const maxBacklog = o.watchBacklog ?? LIMITS.watchBacklog;
        let backlog = 0;
        let closed = false;
        call.on('drain', () => (backlog = 0));
        const send = (e: SweepEvent): boolean => {
          if (closed || e.sweepId !== req.sweepId || e.sequence <= last) return false;
          last = e.sequence;
          if (!call.write(toWatchSweepResponse(e))) backlog++;
          if (backlog > maxBacklog) {
            closed = true;
            unsubscribe();
            o.stopSignal.removeEventListener('abort', end);
            call.emit(
              'error',
              fail(call, new LimitExceededError(`watch closed: this client fell more than ${maxBacklog} events behind (read the stream faster, or watch again with from_start)`, { backlog })),
            );
            return false;
          }
          return isSweepEnd(e);
        };
        // Subscribe and replay in the same turn: nothing committed can fall between them.
        unsubscribe = core.onEvent((e) => {
          if (send(e)) end();
        });
        const past = core.events(req.sweepId);
        if (req.fromStart) for (const e of past) send(e);
        else last = past.length ? past[past.length - 1].sequence : 0;
        if (info.state !== 'running') {
          // Finished: say so (its last sweep.complete or sweep.cancelled) and end.
          const done = [...past].reverse().find(isSweepEnd);
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
        call.emit('error', fail(call, err));
      }
    },
  };

  const worker: WorkerServiceServer = {
    registerWorker: unary((req) =>
      core.registerWorker({
        hostname: req.hostname,
        resources: req.resources ?? { cpu: 0, gpu: 0, memoryMb: 0 },
        backends: req.backends,
        version: req.version,
        gpuNames: req.gpuNames,
        maxBundle: req.maxBundle,
      }),
    ),
    leaseTasks: unary(async (req, call) => {
      const ac = new AbortController();
      const abort = (): void => ac.abort();
      call.on('cancelled', abort);
      o.stopSignal.addEventListener('abort', abort, { once: true });
      try {
        core.authenticateWorker(req.workerId, req.workerSecret);
        return { leases: (await core.leaseTasks(req.workerId, req.maxTasks, req.waitMs, ac.signal)).map(toTaskLease) };
      } finally {
        o.stopSignal.removeEventListener('abort', abort);
      }
    }),
    heartbeat: unary((req) => {
      core.authenticateWorker(req.workerId, req.workerSecret);
      return core.heartbeat(
        req.workerId,
        req.tasks.map((t) => ({ taskId: t.taskId, fencingToken: t.fencingToken, epoch: t.epoch, epochsJson: t.epochsJson })),
        req.draining,
      );
    }),
    completeTask: unary(async (req) => {
      core.authenticateWorker(req.workerId, req.workerSecret);
      const res = await core.completeTask(toCompletionReport(req), req.leaseNext);
      return { nextLeases: res.nextLeases.map(toTaskLease) };
    }),
    completeTasks: unary(async (req) => {
      // Every item names the worker and carries its secret; one wrong refuses the whole call.
      for (const item of req.items) core.authenticateWorker(item.workerId, item.workerSecret);
      const res = await core.completeTasks(req.items.map(toCompletionReport), req.leaseNext);
      return {
        // Each refused item gets the status CompleteTask would have answered for it.
        outcomes: res.outcomes.map((x) => {
          if (x.ok) return { taskId: x.taskId, ok: true, code: grpc.status.OK, message: '' };
          const s = toGrpcStatus(x.error);
          if (s.code === grpc.status.INTERNAL) o.log(`CompleteTasks item ${x.taskId}: ${stackOf(x.error)}`);
          return { taskId: x.taskId, ok: false, code: s.code, message: s.details };
        }),
        nextLeases: res.nextLeases.map(toTaskLease),
      };
    }),
    failTask: unary((req) => {
      core.authenticateWorker(req.workerId, req.workerSecret);
      return core.failTask(req.workerId, req.taskId, req.fencingToken, req.error, req.retryable, req.interrupted);
    }),
    uploadArtifact: (call: grpc.ServerReadableStream<UploadArtifactRequest, UploadArtifactResponse>, callback) => {
      let header: UploadHeader | undefined;
      let upload: ArtifactUpload | undefined;
      let failed = false;
      const idleMs = o.uploadIdleMs ?? LIMITS.uploadIdleMs;
      let idle: NodeJS.Timeout | undefined;
      const refuse = (err: unknown): void => {
        clearTimeout(idle);
        if (failed) return;
        failed = true;
        upload?.abort();
        callback(fail(call, err));
      };
      // A server-side idle deadline: an upload that stops sending gives back its file handle.
      const armIdle = (): void => {
        clearTimeout(idle);
        idle = setTimeout(() => refuse(new LimitExceededError(`artifact upload idle for ${idleMs} ms: ended, nothing stored (send the chunks without pausing)`, { idleMs })), idleMs);
        idle.unref();
      };
      armIdle();
      call.on('data', (msg: UploadArtifactRequest) => {
        if (failed) return;
        armIdle();
        try {
          if (msg.header) {
            if (header) throw new ArtifactMismatchError('artifact upload sent a second header: send one header, then data chunks');
            core.authenticateWorker(msg.header.workerId, msg.header.workerSecret);
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
        clearTimeout(idle);
        if (failed) return;
        if (!upload || !header) {
          refuse(new ArtifactMismatchError('artifact upload ended without a header'));
          return;
        }
        const [u, hd] = [upload, header];
        Promise.resolve()
          .then(() => core.finishUpload(u, hd))
          .then((res) => callback(null, res), refuse);
      });
      const drop = (): void => {
        clearTimeout(idle);
        failed = true;
        upload?.abort();
      };
      call.on('error', drop);
      call.on('cancelled', drop);
    },
    downloadArtifact: (call: grpc.ServerWritableStream<DownloadArtifactRequest, DownloadArtifactResponse>) => {
      let file: string;
      try {
        file = core.artifactPath(call.request.sha256);
      } catch (err) {
        call.emit('error', fail(call, err));
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
        call.end();
      });
      stream.on('error', (err) => call.emit('error', fail(call, err)));
      call.on('cancelled', () => stream.destroy());
    },
  };

  return { sweep, worker };
}

/** Bind a grpc-js server with both services behind `interceptors`. Returns the bound port. */
export async function startGrpcServer(
  services: { sweep: SweepServiceServer; worker: WorkerServiceServer },
  listen: string,
  credentials: grpc.ServerCredentials,
  interceptors: grpc.ServerInterceptor[],
): Promise<{ server: grpc.Server; port: number }> {
  // channelz off: its per-call bookkeeping costs CPU and nothing here reads it.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.enable_channelz': 0, interceptors });
  server.addService(guardDecoding(SweepServiceService), services.sweep);
  server.addService(guardDecoding(WorkerServiceService), services.worker);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port };
}
