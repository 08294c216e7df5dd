/**
 * What every rpc of the coordinator gets, in one grpc-js server interceptor: the bearer-token
 * check with its role (a refused call never reaches its handler), one count per finished call in
 * npf_grpc_requests_total{method, code}, and a last guard on the status sent: a status grpc-js
 * made up from an untyped error (UNKNOWN, the error's own message) leaves as INTERNAL with a
 * generic sentence. Typed errors become statuses in grpc-status.ts.
 */
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY, INTERNAL_ERROR_CODE } from '../common/error-metadata.js';
import { AuthError, PermissionDeniedError } from './errors.js';
import { INTERNAL_DETAILS, toStatusObject } from './grpc-status.js';
import { checkRequest } from './limits.js';

export interface EdgeInterceptorOptions {
  /**
   * The administration token: SweepService (submit, cancel, results, watch, list). Alone (no
   * workerToken) it also grants WorkerService, as the one shared token did. None: no check.
   */
  token?: string;
  /**
   * The worker token: WorkerService only (register, lease, heartbeat, report, artifacts). When
   * set, the administration token is refused on worker rpcs and this one on SweepService.
   */
  workerToken?: string;
  /** Count one finished call (method is the rpc's name, e.g. 'LeaseTasks'). */
  count?: (method: string, code: grpc.status) => void;
  log: (line: string) => void;
}

const BEARER = /^Bearer\s+(.+)$/i;

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

/** The role a token grants: which service's rpcs it may call. */
export type TokenRole = 'admin' | 'worker';

/** The digests of the configured tokens; `worker` undefined: the admin token grants both roles. */
export interface TokenDigests {
  admin: Buffer;
  worker?: Buffer;
}

/** '/npf.v1.WorkerService/LeaseTasks' -> 'worker'; any other service -> 'admin'. */
export function roleOfPath(path: string): TokenRole {
  return path.startsWith('/npf.v1.WorkerService/') ? 'worker' : 'admin';
}

/**
 * Why a call's `authorization` metadata does not grant `role`, or undefined when it does. Missing,
 * malformed or unknown token: UNAUTHENTICATED. A known token of the other role: PERMISSION_DENIED.
 */
export function authRefusal(metadata: grpc.Metadata, tokens: TokenDigests, role: TokenRole): AuthError | PermissionDeniedError | undefined {
  const values = metadata.get('authorization');
  if (values.length === 0) {
    return new AuthError('missing authorization metadata: send "authorization: Bearer <token>" (npf: --token, --token-file or NPF_TOKEN)');
  }
  const m = BEARER.exec(String(values[0]));
  if (!m) return new AuthError('malformed authorization metadata: expected "Bearer <token>"');
  // Compare digests: constant time, and no length leak.
  const given = sha256(m[1].trim());
  const isAdmin = crypto.timingSafeEqual(given, tokens.admin);
  const isWorker = tokens.worker !== undefined && crypto.timingSafeEqual(given, tokens.worker);
  if (!isAdmin && !isWorker) return new AuthError('invalid token: the coordinator refused the bearer token');
  if (role === 'admin' && isWorker) {
    return new PermissionDeniedError('this is the worker token: it grants worker rpcs only; administration (submit, cancel, results, watch, list) takes the administration token');
  }
  if (role === 'worker' && tokens.worker !== undefined && isAdmin) {
    return new PermissionDeniedError('this is the administration token: worker rpcs take the worker token (the coordinator was given --worker-token-file)');
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Percent-encoded size of the status details a call may end with (grpc-js clients take 16 KiB of headers). */
const MAX_DETAILS_CHARS = 8_192;

/** `details` cut at a line so that its percent-encoded form fits MAX_DETAILS_CHARS, saying what was left out. */
export function clampDetails(details: string): string {
  if (encodeURI(details).length <= MAX_DETAILS_CHARS) return details;
  const lines = details.split('\n');
  const kept: string[] = [];
  let size = 200; // room for the note below
  for (const line of lines) {
    const cost = encodeURI(line).length + 3;
    if (size + cost > MAX_DETAILS_CHARS) break;
    kept.push(line);
    size += cost;
  }
  if (kept.length === 0) return `${wellFormed(details.slice(0, 800))}… (${details.length - 800} more characters not sent)`;
  return `${kept.join('\n')}\n… (${lines.length - kept.length} more line(s) not sent)`;
}

/** `text` with every unpaired UTF-16 surrogate replaced by U+FFFD (what String#toWellFormed does). */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, '\uFFFD');
}

/** '/npf.v1.WorkerService/LeaseTasks' -> 'LeaseTasks'. */
function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function edgeInterceptor(o: EdgeInterceptorOptions): grpc.ServerInterceptor {
  const tokens: TokenDigests | undefined = o.token ? { admin: sha256(o.token), worker: o.workerToken ? sha256(o.workerToken) : undefined } : undefined;
  const names = new Map<string, string>();
  return (descriptor, next) => {
    let method = names.get(descriptor.path);
    if (method === undefined) {
      method = methodName(descriptor.path);
      names.set(descriptor.path, method);
    }
    const name = method;
    const role = roleOfPath(descriptor.path);
    let counted = false;
    const call: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(next, {
      start: (go) =>
        go({
          onReceiveMetadata: (metadata, pass) => {
            const refusal = tokens ? authRefusal(metadata, tokens, role) : undefined;
            if (refusal) call.sendStatus(toStatusObject(refusal));
            else pass(metadata);
          },
          // Every message is checked against the limits (limits.ts) before its handler sees it.
          onReceiveMessage: (message, pass) => {
            try {
              checkRequest(name, message);
            } catch (err) {
              call.sendStatus(toStatusObject(err));
              return;
            }
            pass(message);
          },
        }),
      sendStatus: (status, send) => {
        let out = status;
        if (status.code === grpc.status.UNKNOWN) {
          o.log(`${name}: untyped error: ${status.details ?? ''}`);
          out = { ...status, code: grpc.status.INTERNAL, details: INTERNAL_DETAILS };
        }
        // Every INTERNAL of the coordinator names an error code: a client takes an INTERNAL
        // without one for its own transport's failure and repeats the call (error-metadata.ts).
        if (out.code === grpc.status.INTERNAL && !out.metadata?.get(ERROR_CODE_KEY).length) {
          const metadata = out.metadata?.clone() ?? new grpc.Metadata();
          metadata.set(ERROR_CODE_KEY, INTERNAL_ERROR_CODE);
          out = { ...out, metadata };
        }
        // grpc-js percent-encodes details with encodeURI, which throws on a lone UTF-16 surrogate
        // (one can arrive in a request and be echoed in an error message): the call would never
        // be answered. Replace each one with U+FFFD first.
        if (out.details && LONE_SURROGATE.test(out.details)) out = { ...out, details: wellFormed(out.details) };
        // The details travel percent-encoded in an HTTP/2 trailer; one past the client's header
        // limit (16 KiB in grpc-js) is never delivered and the call hangs (a sweep spec with a
        // thousand problems). Longer details are cut at a line, saying how much was left out.
        if (out.details && out.details.length > MAX_DETAILS_CHARS / 3) out = { ...out, details: clampDetails(out.details) };
        if (!counted) {
          counted = true;
          o.count?.(name, out.code ?? grpc.status.OK);
        }
        send(out);
      },
    });
    return call;
  };
}
