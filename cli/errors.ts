/**
 * Typed errors of the CLI's side of a coordinator call. A user sees `message` (one sentence:
 * which coordinator, which call, what it said); `retryable` says whether the same call may work
 * later.
 */
import { status } from '@grpc/grpc-js';
import { NpfError } from '../common/errors.js';

/** The coordinator cannot be reached. Retryable: it may be restarting. */
export class CoordinatorUnreachableError extends NpfError {
  constructor(address: string, detail: string) {
    super('UNREACHABLE', `cannot reach coordinator at ${address}: ${detail}`, { address }, { retryable: true });
  }
}

/** gRPC codes of a call worth repeating as is. */
const RETRYABLE_GRPC_CODES: ReadonlySet<number> = new Set([status.DEADLINE_EXCEEDED, status.ABORTED, status.UNAVAILABLE]);

/** The coordinator answered a client call with an error status. */
export class CoordinatorCallError extends NpfError {
  readonly grpcCode: number;

  constructor(method: string, grpcCode: number, codeName: string, detail: string) {
    super(`GRPC_${codeName}`, `${method}: ${detail} (${codeName})`, { method, grpcCode }, { retryable: RETRYABLE_GRPC_CODES.has(grpcCode) });
    this.grpcCode = grpcCode;
  }
}
