/**
 * A request grpc-js cannot decode (an int64 above 2^53, which the generated code refuses to
 * turn into a number, or malformed bytes) would end as INTERNAL "Error deserializing request".
 * `guardDecoding` wraps a service definition's request decoders so that such a message arrives
 * as an `Undecodable` marker instead; the edge check (limits.ts, in the server interceptor)
 * answers it as INVALID_ARGUMENT naming the reason.
 */
import type * as grpc from '@grpc/grpc-js';

const UNDECODABLE = Symbol('undecodable');

export interface Undecodable {
  readonly [UNDECODABLE]: string;
}

export function undecodableReason(message: unknown): string | undefined {
  return message && typeof message === 'object' && UNDECODABLE in message ? (message as Undecodable)[UNDECODABLE] : undefined;
}

export function guardDecoding<T extends grpc.ServiceDefinition>(service: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(service)) {
    const decode = def.requestDeserialize;
    out[key] = {
      ...def,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          return { [UNDECODABLE]: why } satisfies Undecodable;
        }
      },
    };
  }
  return out as T;
}
