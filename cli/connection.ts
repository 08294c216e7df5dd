/**
 * Flags shared by the CLI commands that talk to a coordinator (submit, status, watch, results):
 * --coordinator HOST:PORT, --token / --token-file / NPF_TOKEN, --tls / --tls-ca.
 */
import fs from 'node:fs';
import { InvalidInputError } from '../common/errors.js';
import type { FlagSpecs } from './args.js';
import { clientTlsFromFlags } from '../common/grpc-client-credentials.js';
import { SweepClient } from './sweep-client.js';

export const CONNECTION_FLAGS = {
  coordinator: { kind: 'string' },
  token: { kind: 'string' },
  'token-file': { kind: 'string' },
  tls: { kind: 'boolean' },
  'tls-ca': { kind: 'string' },
  'tls-cert': { kind: 'string' },
  'tls-key': { kind: 'string' },
} as const satisfies FlagSpecs;

export const CONNECTION_USAGE = `  --coordinator HOST:PORT   coordinator gRPC address (default env NPF_COORDINATOR or 127.0.0.1:7070)
  --token TOKEN             bearer token (or env NPF_TOKEN, or --token-file)
  --token-file FILE         read the token from FILE
  --tls-ca FILE             use TLS, trusting this CA (--tls for the system roots)
  --tls-cert FILE           mutual TLS: this client's certificate (PEM) ...
  --tls-key FILE            ... and its key (for a coordinator started with --tls-client-ca)`;

export interface ConnectionFlags {
  coordinator?: string;
  token?: string;
  'token-file'?: string;
  tls?: boolean;
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
}

/** The bearer token from --token-file, --token or NPF_TOKEN (in that order). */
export function resolveToken(flags: { token?: string; 'token-file'?: string }): string | undefined {
  if (flags['token-file']) {
    try {
      const t = fs.readFileSync(flags['token-file'], 'utf8').trim();
      if (!t) throw new InvalidInputError(`--token-file ${flags['token-file']}: the file is empty`);
      return t;
    } catch (e) {
      if (e instanceof InvalidInputError) throw e;
      throw new InvalidInputError(`--token-file ${flags['token-file']}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  return flags.token ?? (process.env.NPF_TOKEN || undefined);
}

/**
 * The connection flags to repeat in a hint ("npf watch ID --coordinator H:P --token-file F"), so
 * the suggested command reaches the same coordinator: the address (unless it came from
 * NPF_COORDINATOR, which the next command sees too; npf status and watch read ./.npf without
 * one), the token file and TLS files, never a token itself. Pure.
 */
export function connectionHint(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>): string {
  const address = flags.coordinator ?? (env.NPF_COORDINATOR ? undefined : '127.0.0.1:7070');
  const parts: string[] = [];
  if (address) parts.push(`--coordinator ${address}`);
  if (flags['token-file']) parts.push(`--token-file ${flags['token-file']}`);
  if (flags.tls) parts.push('--tls');
  for (const f of ['tls-ca', 'tls-cert', 'tls-key'] as const) if (flags[f]) parts.push(`--${f} ${flags[f]}`);
  return parts.map((p) => ` ${p}`).join('');
}

export function connect(flags: ConnectionFlags): SweepClient {
  const address = flags.coordinator ?? process.env.NPF_COORDINATOR ?? '127.0.0.1:7070';
  if (!/^(\[[^\]]+\]|[^:\s]+):\d+$/.test(address)) throw new InvalidInputError(`--coordinator ${address}: expected HOST:PORT`);
  return new SweepClient({ address, token: resolveToken(flags), tls: clientTlsFromFlags(flags) });
}
