/**
 * What every rpc of the coordinator gets, in one grpc-js server interceptor: the bearer-token
 * check (a refused call never reaches its handler), one count per finished call in
 * npf_grpc_requests_total{method, code}, and a last guard on the status sent: a status grpc-js
 * made up from an untyped error (UNKNOWN, the error's own message) leaves as INTERNAL with a
 * generic sentence. Typed errors become statuses in grpc-status.ts.
 */
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_KEY, INTERNAL_ERROR_CODE } from '../common/error-metadata.js';
import { AuthError } from './errors.js';
import { INTERNAL_DETAILS, toStatusObject } from './grpc-status.js';
import { checkRequest } from './limits.js';

export interface EdgeInterceptorOptions {
  /** Bearer token every call must carry; none: no check. */
  token?: string;
  /** Count one finished call (method is the rpc's name, e.g. 'LeaseTasks'). */
  count?: (method: string, code: grpc.status) => void;
  log: (line: string) => void;
}

const BEARER = /^Bearer\s+(.+)$/i;

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

/** Why a call's `authorization` metadata is not `Bearer <token>`, or undefined when it is. */
export function authRefusal(metadata: grpc.Metadata, expectedDigest: Buffer): AuthError | undefined {
  const values = metadata.get('authorization');
  if (values.length === 0) {
    return new AuthError('missing authorization metadata: send "authorization: Bearer <token>" (npf: --token, --token-file or NPF_TOKEN)');
  }
  const m = BEARER.exec(String(values[0]));
  if (!m) return new AuthError('malformed authorization metadata: expected "Bearer <token>"');
  // Compare digests: constant time, and no length leak.
  if (!crypto.timingSafeEqual(sha256(m[1].trim()), expectedDigest)) return new AuthError('invalid token: the coordinator refused the bearer token');
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `text` with every unpaired UTF-16 surrogate replaced by U+FFFD (what String#toWellFormed does). */
export function wellFormed(text: string): string {
  return text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}

/** '/npf.v1.WorkerService/LeaseTasks' -> 'LeaseTasks'. */
function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function edgeInterceptor(o: EdgeInterceptorOptions): grpc.ServerInterceptor {
  const digest = o.token ? sha256(o.token) : undefined;
  const names = new Map<string, string>();
  return (descriptor, next) => {
    let method = names.get(descriptor.path);
    if (method === undefined) {
      method = methodName(descriptor.path);
      names.set(descriptor.path, method);
    }
    const name = method;
    let counted = false;
    const call: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(next, {
      start: (go) =>
        go({
          onReceiveMetadata: (metadata, pass) => {
            const refusal = digest ? authRefusal(metadata, digest) : undefined;
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
