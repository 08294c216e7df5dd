/**
 * A scripted WorkerService on a real grpc-js server (loopback, port 0) for worker tests:
 * the test queues leases and sets cancel ids; the server records every call. Scheduling logic
 * is NOT here (that is the real coordinator's, tested in e2e); only the wire protocol is.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY, notFoundCode } from '../../common/error-metadata.js';
import {
  WorkerServiceService,
  type CompleteTaskRequest,
  type CompleteTasksRequest,
  type FailTaskRequest,
  type HeartbeatRequest,
  type RegisterWorkerRequest,
  type TaskLease,
  type UploadArtifactRequest,
  type WorkerServiceServer,
  type ArtifactRef,
} from '../../gen/npf/v1/sweep.js';

export class FakeCoordinator {
  readonly server = new grpc.Server();
  address = '';
  token?: string;
  queue: TaskLease[] = [];
  cancel = new Set<string>();
  heartbeats: HeartbeatRequest[] = [];
  /** Every result reported, by CompleteTask or as an item of CompleteTasks. */
  completes: CompleteTaskRequest[] = [];
  /** CompleteTasks calls as received. */
  batches: CompleteTasksRequest[] = [];
  /** Answer CompleteTasks with UNIMPLEMENTED (an older coordinator). */
  noCompleteTasks = false;
  /** Refuse the results of these task ids with FAILED_PRECONDITION (a stale fencing token). */
  refuse = new Set<string>();
  /** Task ids handed out in CompleteTask answers (lease_next). */
  nextLeased: string[] = [];
  fails: FailTaskRequest[] = [];
  uploads: { ref: ArtifactRef; bytes: Buffer }[] = [];
  artifacts = new Map<string, Buffer>();
  downloads = 0;
  registrations = 0;
  /** Every RegisterWorker request, in order. */
  readonly registerRequests: RegisterWorkerRequest[] = [];
  /** Answer the next heartbeat with NOT_FOUND WORKER_NOT_FOUND (a coordinator that lost its workers). */
  forgetWorkerOnce = false;

  /** Calls that named a worker without the secret issued to it (answered PERMISSION_DENIED, as the real coordinator does). */
  readonly unsigned: string[] = [];

  constructor(token?: string) {
    this.token = token;
    const authed = (md: grpc.Metadata): boolean => !this.token || md.get('authorization')[0] === `Bearer ${this.token}`;
    const deny = { code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong bearer token' };
    // Each registration issues the secret `secret-<id>`; every later call naming the id must carry it.
    const signed = (rpc: string, r: { workerId: string; workerSecret: string }): boolean => {
      if (r.workerId && r.workerSecret === `secret-${r.workerId}`) return true;
      this.unsigned.push(`${rpc} ${r.workerId}`);
      return false;
    };
    const forged = { code: grpc.status.PERMISSION_DENIED, details: 'worker_secret is not the one issued to this worker' };
    const impl: WorkerServiceServer = {
      registerWorker: (call, cb) => {
        if (!authed(call.metadata)) return cb(deny);
        this.registrations++;
        this.registerRequests.push(call.request);
        cb(null, { workerId: `w${this.registrations}`, workerSecret: `secret-w${this.registrations}`, leaseTtlMs: 3000, heartbeatIntervalMs: 100 });
      },
      leaseTasks: (call, cb) => {
        if (!authed(call.metadata)) return cb(deny);
        if (!signed('LeaseTasks', call.request)) return cb(forged);
        const deadline = Date.now() + Math.min(Number(call.request.waitMs), 500);
        const poll = () => {
          if (this.queue.length > 0 || Date.now() >= deadline || call.cancelled) {
            return cb(null, { leases: this.take(call.request.maxTasks) });
          }
          setTimeout(poll, 20);
        };
        poll();
      },
      heartbeat: (call, cb) => {
        if (!authed(call.metadata)) return cb(deny);
        if (!signed('Heartbeat', call.request)) return cb(forged);
        if (this.forgetWorkerOnce) {
          this.forgetWorkerOnce = false;
          // As the real coordinator answers: the error code in trailing metadata says which id is unknown.
          const metadata = new grpc.Metadata();
          metadata.set(ERROR_CODE_KEY, notFoundCode('worker'));
          return cb({ code: grpc.status.NOT_FOUND, details: `unknown worker '${call.request.workerId}'`, metadata });
        }
        this.heartbeats.push(call.request);
        cb(null, { cancelTaskIds: call.request.tasks.map((t) => t.taskId).filter((id) => this.cancel.has(id)) });
      },
      completeTask: (call, cb) => {
        if (!signed('CompleteTask', call.request)) return cb(forged);
        this.completes.push(call.request);
        // lease_next: hand out queued leases in the answer, as the real coordinator does.
        const next = this.take(call.request.leaseNext);
        this.nextLeased.push(...next.map((l) => l.taskId));
        cb(null, { nextLeases: next });
      },
      completeTasks: (call, cb) => {
        if (this.noCompleteTasks) return cb({ code: grpc.status.UNIMPLEMENTED, details: 'The server does not implement the method /npf.v1.WorkerService/CompleteTasks' });
        if (!call.request.items.every((i) => signed('CompleteTasks', i))) return cb(forged);
        this.batches.push(call.request);
        const outcomes = call.request.items.map((item) => {
          if (this.refuse.has(item.taskId)) return { taskId: item.taskId, ok: false, code: grpc.status.FAILED_PRECONDITION, message: `stale fencing token ${item.fencingToken}` };
          this.completes.push(item);
          return { taskId: item.taskId, ok: true, code: grpc.status.OK, message: '' };
        });
        const next = this.take(call.request.leaseNext);
        this.nextLeased.push(...next.map((l) => l.taskId));
        cb(null, { outcomes, nextLeases: next });
      },
      failTask: (call, cb) => {
        if (!signed('FailTask', call.request)) return cb(forged);
        this.fails.push(call.request);
        cb(null, { willRetry: call.request.retryable });
      },
      uploadArtifact: (call, cb) => {
        let ref: ArtifactRef | undefined;
        const chunks: Buffer[] = [];
        let refused = false;
        call.on('data', (m: UploadArtifactRequest) => {
          if (refused) return;
          if (m.header) {
            if (!signed('UploadArtifact', m.header)) {
              refused = true;
              return cb(forged);
            }
            ref = m.header.ref;
          }
          else if (m.chunk) chunks.push(Buffer.from(m.chunk));
        });
        call.on('end', () => {
          if (refused) return;
          const bytes = Buffer.concat(chunks);
          const sha256 = createHash('sha256').update(bytes).digest('hex');
          if (!ref) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'no header' });
          this.uploads.push({ ref, bytes });
          this.artifacts.set(sha256, bytes);
          cb(null, { sha256, size: bytes.length });
        });
      },
      downloadArtifact: (call) => {
        const bytes = this.artifacts.get(call.request.sha256);
        if (!bytes) return call.destroy(Object.assign(new Error('unknown artifact'), { code: grpc.status.NOT_FOUND }));
        this.downloads++;
        for (let i = 0; i < bytes.length; i += 1000) call.write({ chunk: bytes.subarray(i, i + 1000), size: i === 0 ? bytes.length : 0 });
        if (bytes.length === 0) call.write({ chunk: Buffer.alloc(0), size: 0 });
        call.end();
      },
    };
    this.server.addService(WorkerServiceService, impl);
  }

  /** Queued leases for up to `slots` processes, as the real coordinator answers: a bundle's members come together. */
  private take(slots: number): TaskLease[] {
    const out: TaskLease[] = [];
    const processes = new Set<string>();
    while (this.queue.length > 0) {
      const key = this.queue[0].bundleId || this.queue[0].taskId;
      if (!processes.has(key) && processes.size >= Math.max(0, slots)) break;
      processes.add(key);
      out.push(this.queue.shift() as TaskLease);
    }
    return out;
  }

  async start(): Promise<this> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A fully specified tiny trial spec (as the coordinator would send it). */
export function tinySpec(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dataset: { name: 'mnist', trainSubset: { first: 100 }, testSubset: { first: 100 } },
    arch: { kind: 'fc', width: 8, depth: 2, bias: true },
    regime: 'relu',
    optimizer: { name: 'sgd', lr: 0.01 },
    epochs: 2,
    batchSize: 32,
    seed: 1,
    ...over,
  };
}

export function lease(taskId: string, spec: Record<string, unknown>, extra: Partial<TaskLease> = {}): TaskLease {
  return { taskId, sweepId: 's1', fencingToken: 1, specJson: JSON.stringify(spec), gpuIndex: -1, resources: { cpu: 1, gpu: 0, memoryMb: 0 }, bundleId: '', ...extra };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
