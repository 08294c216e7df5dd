/**
 * Client credentials for the coordinator, shared by the CLI and the worker: plain text, TLS
 * (the coordinator's CA, or the system roots), or mutual TLS (also this client's certificate
 * and key, for a coordinator started with --tls-client-ca).
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { InvalidInputError } from './errors.js';

export interface ClientTls {
  /** The CA that signed the coordinator's certificate (system roots when absent). */
  caFile?: string;
  /** This client's certificate and key (PEM), both or neither: mutual TLS. */
  certFile?: string;
  keyFile?: string;
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new InvalidInputError(`cannot read the ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file });
  }
}

export function clientCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (!!tls.certFile !== !!tls.keyFile) throw new InvalidInputError('give both --tls-cert and --tls-key (mutual TLS), or neither');
  const ca = tls.caFile ? readPem(tls.caFile, 'CA') : null;
  const key = tls.keyFile ? readPem(tls.keyFile, 'TLS key') : null;
  const cert = tls.certFile ? readPem(tls.certFile, 'TLS certificate') : null;
  return grpc.credentials.createSsl(ca, key, cert);
}

/** TLS options from the shared flags: --tls-ca, --tls, --tls-cert/--tls-key (a certificate implies TLS). */
export function clientTlsFromFlags(flags: { tls?: boolean; 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string }): ClientTls | undefined {
  const mutual = flags['tls-cert'] || flags['tls-key'] ? { certFile: flags['tls-cert'], keyFile: flags['tls-key'] } : {};
  if (flags['tls-ca']) return { caFile: flags['tls-ca'], ...mutual };
  if (flags.tls || flags['tls-cert'] || flags['tls-key']) return mutual;
  return undefined;
}
