/**
 * The worker's side of WorkerService: promise wrappers over the generated grpc-js client that
 * add the bearer token and a deadline to every call, and the worker secret to every request that
 * names a worker id (the secret RegisterWorker returned for that id: kept here, in memory only,
 * never logged), and `classify` of a failed call. Nothing here retries; worker-retry.ts decides.
 */
import { clientCredentials, type ClientTls } from '../common/grpc-client-credentials.js';
import * as grpc from '@grpc/grpc-js';
import { errorCodeOf, notFoundCode } from '../common/error-metadata.js';
import { describeError } from '../common/errors.js';
import {
  WorkerServiceClient,
  type CompleteTaskRequest,
  type CompleteTaskResponse,
  type CompleteTasksRequest,
  type CompleteTasksResponse,
  type DownloadArtifactResponse,
  type FailTaskRequest,
  type FailTaskResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type LeaseTasksRequest,
  type LeaseTasksResponse,
  type RegisterWorkerRequest,
  type RegisterWorkerResponse,
  type UploadArtifactRequest,
  type UploadArtifactResponse,
  type ArtifactHeader,
} from '../gen/npf/v1/sweep.js';
import { DRAIN_STEP_MS } from './drain-budget.js';

export interface CoordinatorClientOptions {
  /** host:port of the coordinator's gRPC endpoint. */
  address: string;
  token?: string;
  /** TLS: the CA that signed the coordinator's certificate (system roots when tls is {} without caFile). */
  tls?: ClientTls;
  /**
   * HTTP/2 keepalive: a ping every `timeMs` (also between calls), and a connection whose ping
   * is not answered within `timeoutMs` is closed, so calls on it fail with UNAVAILABLE (retried)
   * instead of waiting out their deadlines. Default KEEPALIVE; `false` turns it off.
   */
  keepalive?: { timeMs: number; timeoutMs: number } | false;
}

/**
 * A connection that silently stopped carrying bytes (a NAT or load balancer dropped it, a
 * partition) is noticed within ~40 s instead of at each call's deadline; for the lease long-poll
 * that deadline is the whole wait. The coordinator's grpc-js server answers pings at any rate.
 */
export const KEEPALIVE = { timeMs: 30_000, timeoutMs: 10_000 } as const;

/** A request as the worker's modules build it: the client adds the worker secret of its worker id. */
export type Unsigned<T> = Omit<T, 'workerSecret'>;

/** One message of an upload as the worker builds it: the client signs the header. */
export type UnsignedUploadPart = Omit<UploadArtifactRequest, 'header'> & { header?: Unsigned<ArtifactHeader> };

/** A cancellable in-flight call (the lease long-poll is cancelled when draining). */
export interface PendingCall<T> {
  promise: Promise<T>;
  cancel(): void;
}

export function grpcCode(err: unknown): grpc.status | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? (c as grpc.status) : undefined;
}

/** The server's own sentence of a gRPC error (without grpc-js' "14 UNAVAILABLE:" prefix). */
export function detailOf(err: unknown): string {
  const details = (err as { details?: unknown } | null)?.details;
  return typeof details === 'string' && details ? details : describeError(err);
}

/** "UNAVAILABLE: <the server's sentence>", for log lines. */
export function describeCallError(err: unknown): string {
  return `${grpc.status[grpcCode(err) ?? -1] ?? 'ERROR'}: ${detailOf(err)}`;
}

/**
 * What a failed call means for the worker (worker-retry.ts decides what to do about it):
 * - 'retry': the coordinator is not reachable right now (UNAVAILABLE, DEADLINE_EXCEEDED,
 *   CANCELLED, or an INTERNAL without the coordinator's error code: the HTTP/2 session broke
 *   under the call, e.g. after a network partition); the same call may succeed later.
 * - 'reregister': the coordinator does not know this worker id (NOT_FOUND with error code
 *   WORKER_NOT_FOUND: it lost its worker table); register again, then repeat the call.
 * - 'fenced': the lease is no longer this worker's (FAILED_PRECONDITION: a stale fencing token,
 *   the task moved on or finished); the work it reported is dropped.
 * - 'fatal': the coordinator refuses this worker's credentials (UNAUTHENTICATED: the token;
 *   PERMISSION_DENIED: a token of the wrong role, or a worker secret not this worker's); stop.
 * - 'refused': any other answer (bad request, unknown task or artifact, internal error, or a
 *   local error that is not a gRPC status at all): repeating the same call cannot help.
 */
export type CallVerdict = 'retry' | 'reregister' | 'fenced' | 'fatal' | 'refused';

/** Classify a failed call by its gRPC status code and typed error code (never by its message). */
export function classify(err: unknown): CallVerdict {
  switch (grpcCode(err)) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.CANCELLED:
      return 'retry';
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
      return 'fatal';
    case grpc.status.INTERNAL:
      // The coordinator names a code on every INTERNAL it sends; one without came from grpc-js.
      return errorCodeOf(err) === undefined ? 'retry' : 'refused';
    case grpc.status.FAILED_PRECONDITION:
      return 'fenced';
    case grpc.status.NOT_FOUND:
      return errorCodeOf(err) === notFoundCode('worker') ? 'reregister' : 'refused';
    default:
      return 'refused';
  }
}

function keepaliveOptions(k: { timeMs: number; timeoutMs: number } | false): grpc.ChannelOptions {
  if (!k) return {};
  return { 'grpc.keepalive_time_ms': k.timeMs, 'grpc.keepalive_timeout_ms': k.timeoutMs, 'grpc.keepalive_permit_without_calls': 1 };
}

export class CoordinatorClient {
  readonly address: string;
  private readonly client: WorkerServiceClient;
  private readonly token?: string;
  /** The secret issued to each worker id this client registered (a re-registration adds one). */
  private readonly secrets = new Map<string, string>();

  constructor(opts: CoordinatorClientOptions) {
    this.address = opts.address;
    this.token = opts.token;
    const creds = clientCredentials(opts.tls);
    this.client = new WorkerServiceClient(opts.address, creds, {
      // Reconnect quickly after a coordinator restart; worker-retry.ts owns the visible backoff.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      ...keepaliveOptions(opts.keepalive ?? KEEPALIVE),
    });
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  private unary<Req, Res>(
    method: (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
    req: Req,
    timeoutMs: number,
  ): PendingCall<Res> {
    let call: grpc.ClientUnaryCall | undefined;
    const promise = new Promise<Res>((resolve, reject) => {
      call = method.call(this.client, req, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
    return { promise, cancel: () => call?.cancel() };
  }

  /** The secret issued to `workerId` ('' for an id this client never registered: the coordinator refuses it). */
  private secretOf(workerId: string): string {
    return this.secrets.get(workerId) ?? '';
  }

  /** `req` with the secret of the worker id it names. */
  private sign<T extends { workerId: string }>(req: T): T & { workerSecret: string } {
    return { ...req, workerSecret: this.secretOf(req.workerId) };
  }

  /** RegisterWorker; the secret of the answer is kept for the calls that name its worker id. */
  async register(req: RegisterWorkerRequest, timeoutMs = 10_000): Promise<RegisterWorkerResponse> {
    const res = await this.unary(this.client.registerWorker, req, timeoutMs).promise;
    this.secrets.set(res.workerId, res.workerSecret);
    return res;
  }

  lease(req: Unsigned<LeaseTasksRequest>, timeoutMs: number): PendingCall<LeaseTasksResponse> {
    return this.unary(this.client.leaseTasks, this.sign(req), timeoutMs);
  }

  heartbeat(req: Unsigned<HeartbeatRequest>, timeoutMs = 10_000): Promise<HeartbeatResponse> {
    return this.unary(this.client.heartbeat, this.sign(req), timeoutMs).promise;
  }

  /** CompleteTask; its answer holds the leases granted for `req.leaseNext` (none from an older coordinator). */
  complete(req: Unsigned<CompleteTaskRequest>, timeoutMs = 30_000): Promise<CompleteTaskResponse> {
    return this.unary(this.client.completeTask, this.sign(req), timeoutMs).promise;
  }

  /** CompleteTasks: several results in one call; an older coordinator answers UNIMPLEMENTED. */
  completeMany(req: Omit<CompleteTasksRequest, 'items'> & { items: Unsigned<CompleteTaskRequest>[] }, timeoutMs = 30_000): Promise<CompleteTasksResponse> {
    return this.unary(this.client.completeTasks, { ...req, items: req.items.map((i) => this.sign(i)) }, timeoutMs).promise;
  }

  /** Its deadline bounds the hand-back step of a drain (drain-budget.ts). */
  fail(req: Unsigned<FailTaskRequest>, timeoutMs = DRAIN_STEP_MS.handBack): Promise<FailTaskResponse> {
    return this.unary(this.client.failTask, this.sign(req), timeoutMs).promise;
  }

  /** Client-streaming upload: `write` is called with each message in order (the header signed). */
  upload(parts: AsyncIterable<UnsignedUploadPart>, timeoutMs = 300_000): Promise<UploadArtifactResponse> {
    return new Promise<UploadArtifactResponse>((resolve, reject) => {
      const stream = this.client.uploadArtifact(this.metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
      (async () => {
        for await (const unsigned of parts) {
          const part: UploadArtifactRequest = unsigned.header ? { ...unsigned, header: this.sign(unsigned.header) } : (unsigned as UploadArtifactRequest);
          if (!stream.write(part)) await new Promise<void>((r) => stream.once('drain', () => r()));
        }
        stream.end();
      })().catch((err: unknown) => {
        stream.cancel();
        reject(err);
      });
    });
  }

  /** Server-streaming download of an artifact's bytes. */
  download(sha256: string, timeoutMs = 300_000): AsyncIterable<DownloadArtifactResponse> {
    return this.client.downloadArtifact({ sha256 }, this.metadata(), { deadline: Date.now() + timeoutMs });
  }

  close(): void {
    this.client.close();
  }
}
