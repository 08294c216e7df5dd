/**
 * Client side of SweepService for the CLI: promise wrappers over the generated grpc-js client
 * that add the bearer token, and turn failures into one sentence: an unreachable coordinator
 * ("cannot reach coordinator at X: ..."), a refused token, or the server's own message.
 */
import { clientCredentials, type ClientTls } from '../common/grpc-client-credentials.js';
import * as grpc from '@grpc/grpc-js';
import {
  SweepServiceClient,
  type GetResultsResponse,
  type GetSweepResponse,
  type SubmitSweepRequest,
  type SubmitSweepResponse,
  type SweepInfo,
  type WatchSweepResponse,
} from '../gen/npf/v1/sweep.js';
import { CoordinatorCallError, CoordinatorUnreachableError } from './errors.js';

export interface SweepClientOptions {
  /** host:port */
  address: string;
  token?: string;
  /** TLS with this CA (system roots when caFile is absent); certFile/keyFile for mutual TLS. */
  tls?: ClientTls;
  /** Per-call deadline (default 30 s). */
  timeoutMs?: number;
}

/** Map a grpc-js error to a typed error with one clear sentence. */
export function describeCallError(address: string, method: string, err: grpc.ServiceError): Error {
  if (err.code === grpc.status.UNAVAILABLE) {
    // grpc-js says "No connection established. Last error: Error: connect ECONNREFUSED ...
    // Resolution note: ": keep the cause.
    const detail = (err.details || err.message)
      .replace(/\.?\s*Resolution note:.*$/s, '')
      .replace(/^No connection established\. Last error: (Error: )?/, '');
    return new CoordinatorUnreachableError(address, detail);
  }
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return new CoordinatorUnreachableError(address, `no answer to ${method} in time`);
  if (err.code === grpc.status.UNAUTHENTICATED) {
    return new CoordinatorCallError(method, err.code, 'UNAUTHENTICATED', `the coordinator at ${address} refused the call: ${err.details}`);
  }
  return new CoordinatorCallError(method, err.code, grpc.status[err.code] ?? String(err.code), err.details || err.message);
}

export class SweepClient {
  private readonly client: SweepServiceClient;
  private readonly md = new grpc.Metadata();

  constructor(private readonly opts: SweepClientOptions) {
    const creds = clientCredentials(opts.tls);
    if (opts.token) this.md.set('authorization', `Bearer ${opts.token}`);
    this.client = new SweepServiceClient(opts.address, creds);
  }

  private unary<Req, Res>(method: string, req: Req): Promise<Res> {
    const fn = (this.client as unknown as Record<string, (...a: unknown[]) => unknown>)[method[0].toLowerCase() + method.slice(1)];
    return new Promise<Res>((resolve, reject) => {
      fn.call(this.client, req, this.md, { deadline: Date.now() + (this.opts.timeoutMs ?? 30_000) }, (err: grpc.ServiceError | null, res: Res) =>
        err ? reject(describeCallError(this.opts.address, method, err)) : resolve(res),
      );
    });
  }

  submit(req: SubmitSweepRequest): Promise<SubmitSweepResponse> {
    return this.unary('SubmitSweep', req);
  }

  async get(sweepId: string): Promise<SweepInfo> {
    const r = await this.unary<{ sweepId: string }, { sweep?: SweepInfo }>('GetSweep', { sweepId });
    return r.sweep!;
  }

  /** The sweep with the spec it was submitted with (GetSweep with include_spec). */
  getWithSpec(sweepId: string): Promise<GetSweepResponse> {
    return this.unary('GetSweep', { sweepId, includeSpec: true });
  }

  async list(): Promise<SweepInfo[]> {
    return (await this.unary<object, { sweeps: SweepInfo[] }>('ListSweeps', {})).sweeps;
  }

  async cancel(sweepId: string): Promise<number> {
    return (await this.unary<{ sweepId: string }, { cancelledTasks: number }>('CancelSweep', { sweepId })).cancelledTasks;
  }

  /** Cancel the sweep (no `taskIds`) or only these trials; the ids of the tasks cancelled. */
  async cancelTasks(sweepId: string, taskIds: readonly string[]): Promise<string[]> {
    return (await this.unary<{ sweepId: string; taskIds: readonly string[] }, { cancelledTaskIds: string[] }>('CancelSweep', { sweepId, taskIds })).cancelledTaskIds;
  }

  results(sweepId: string, format: string): Promise<GetResultsResponse> {
    return this.unary('GetResults', { sweepId, format });
  }

  /** Follow a sweep's events until it completes (or the stream fails, or `signal` aborts). */
  watch(sweepId: string, fromStart: boolean, onEvent: (e: WatchSweepResponse) => void, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = this.client.watchSweep({ sweepId, fromStart }, this.md);
      const abort = () => {
        stream.cancel();
        resolve();
      };
      signal?.addEventListener('abort', abort, { once: true });
      stream.on('data', onEvent);
      stream.on('end', () => resolve());
      stream.on('error', (err: grpc.ServiceError) => {
        if (signal?.aborted) return resolve();
        reject(describeCallError(this.opts.address, 'WatchSweep', err));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
