/**
 * `npf coordinator`: run a coordinator (gRPC SweepService + WorkerService, /metrics, /healthz,
 * /readyz) until SIGTERM/SIGINT, with its state in --data-dir (SQLite + artifacts).
 */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../common/errors.js';
import { resolveToken } from '../connection.js';
import { startCoordinator } from '../../coordinator/main.js';

const USAGE = `usage: npf coordinator --data-dir DIR [options]

  --data-dir DIR            state: DIR/npf.db (SQLite) and DIR/artifacts/ (required)
  --listen HOST:PORT        gRPC address (default 0.0.0.0:7070)
  --http HOST:PORT          /metrics, /healthz, /readyz (default 0.0.0.0:9464; 'off' to disable)
  --token TOKEN             bearer token every call must carry (or env NPF_TOKEN, or --token-file)
  --token-file FILE         read the token from FILE
  --tls-cert FILE           serve TLS with this certificate (PEM) ...
  --tls-key FILE            ... and this key (PEM)
  --tls-client-ca FILE      also require client certificates signed by this CA
  --lease-ttl-ms N          lease time-to-live without heartbeat (default 30000)
  --heartbeat-ms N          heartbeat interval told to workers (default 5000)
  --max-attempts N          attempts per trial (default 3)
  --retry-backoff-ms N      backoff before the 2nd attempt, doubling after (default 1000)
  --nats URL                publish task/sweep events to NATS JetStream (docs/events.md)
  --nats-required           refuse to start when NATS is unreachable (default: warn, buffer, retry)`;

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidInputError(`--${flag} ${v}: expected a whole number > 0`, { flag, value: v });
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        listen: { type: 'string' },
        http: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        'lease-ttl-ms': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        'max-attempts': { type: 'string' },
        'retry-backoff-ms': { type: 'string' },
        nats: { type: 'string' },
        'nats-required': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new InvalidInputError(`coordinator: ${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values['data-dir']) throw new InvalidInputError(`coordinator: --data-dir DIR is required\n${USAGE}`);
  if (!!values['tls-cert'] !== !!values['tls-key']) throw new InvalidInputError('coordinator: give both --tls-cert and --tls-key, or neither');
  const token = resolveToken(values);
  if (!token) console.error('npf coordinator: WARNING: no --token/NPF_TOKEN: every client is accepted');
  const c = await startCoordinator({
    dataDir: values['data-dir'],
    grpcListen: values.listen ?? '0.0.0.0:7070',
    httpListen: values.http === 'off' ? null : (values.http ?? '0.0.0.0:9464'),
    token,
    tls: values['tls-cert'] ? { certFile: values['tls-cert'], keyFile: values['tls-key']!, caFile: values['tls-client-ca'] } : undefined,
    leaseTtlMs: int('lease-ttl-ms', values['lease-ttl-ms']),
    heartbeatIntervalMs: int('heartbeat-ms', values['heartbeat-ms']),
    maxAttempts: int('max-attempts', values['max-attempts']),
    retryBackoffMs: int('retry-backoff-ms', values['retry-backoff-ms']),
    nats: values.nats ? { url: values.nats, required: !!values['nats-required'] } : undefined,
    log: (line) => console.error(`[coordinator] ${new Date().toISOString()} ${line}`),
  });
  console.log(`npf coordinator: gRPC ${c.grpcAddress}${c.httpAddress ? `, http://${c.httpAddress}/metrics` : ''}, data ${values['data-dir']}`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      console.error(`npf coordinator: ${sig}: stopping`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await c.stop();
  return 0;
}
