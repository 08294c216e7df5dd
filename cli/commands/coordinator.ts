/**
 * `npf coordinator`: run a coordinator (gRPC SweepService + WorkerService, /metrics, /healthz,
 * /readyz) until SIGTERM/SIGINT, with its state in --data-dir (SQLite + artifacts).
 */
import { readSecretFile } from '../../common/secret-file.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { resolveToken } from '../connection.js';
import { startCoordinator } from '../../coordinator/main.js';

const USAGE = `usage: npf coordinator --data-dir DIR [options]

  --data-dir DIR            state: DIR/npf.db (SQLite) and DIR/artifacts/ (required)
  --listen HOST:PORT        gRPC address (default 127.0.0.1:7070; beyond loopback give TLS)
  --http HOST:PORT          /metrics, /healthz, /readyz and the web dashboard at / (default 127.0.0.1:9464; 'off' to disable)
  --ui loopback|all|off     who the dashboard answers (default loopback: this machine, a port-forward or an
                            SSH tunnel); it always asks for the token (sign in, or Authorization: Bearer)
  --token TOKEN             administration token (or env NPF_TOKEN, or --token-file): submit, cancel, results,
                            watch, list and the dashboard; alone it also grants the worker rpcs
  --token-file FILE         read the token from FILE
  --worker-token-file FILE  a separate worker token, read from FILE: register, lease, heartbeat, report and
                            artifacts take it, and only it (the administration token is then refused there,
                            and it cannot submit or cancel); docs/security.md
  --tls-cert FILE           serve TLS with this certificate (PEM) ...
  --tls-key FILE            ... and this key (PEM)
  --tls-client-ca FILE      also require client certificates signed by this CA
  --lease-ttl-ms N          lease time-to-live without heartbeat (default 30000)
  --heartbeat-ms N          heartbeat interval told to workers (default 5000)
  --max-attempts N          attempts per trial (default 3)
  --retry-backoff-ms N      backoff before the 2nd attempt, doubling after (default 1000)
  --max-trials-per-sweep N  ceiling on one sweep's trials (default 10000); a spec can only lower it
  --max-artifact-bytes-per-sweep N
                            quota on the bytes of one sweep's checkpoints (default 68719476736 = 64 GiB)
  --retention-days N        prune progress events and epoch records of sweeps finished N days ago
                            (default 30; 0 keeps everything); whole sweeps and artifacts: npf gc
  --nats URL                publish task/sweep events to NATS JetStream (docs/events.md)
  --nats-required           refuse to start when NATS is unreachable (default: warn, buffer, retry)
  --nats-token-file FILE    NATS authentication token, read from FILE
  --nats-max-bytes N        byte limit of the events stream (default 1073741824 = 1 GiB; -1: none)`;

const SPEC = defineCommand({
  command: 'coordinator',
  usage: USAGE,
  flags: {
    'data-dir': { kind: 'string', required: true },
    listen: { kind: 'string' },
    http: { kind: 'string' },
    token: { kind: 'string' },
    'token-file': { kind: 'string' },
    'worker-token-file': { kind: 'string' },
    'tls-cert': { kind: 'string' },
    'tls-key': { kind: 'string' },
    'tls-client-ca': { kind: 'string' },
    'lease-ttl-ms': { kind: 'int', min: 1 },
    'heartbeat-ms': { kind: 'int', min: 1 },
    'max-attempts': { kind: 'int', min: 1 },
    'retry-backoff-ms': { kind: 'int', min: 1 },
    'max-trials-per-sweep': { kind: 'int', min: 1 },
    'max-artifact-bytes-per-sweep': { kind: 'int', min: 1 },
    'retention-days': { kind: 'int', min: 0 },
    nats: { kind: 'string' },
    'nats-required': { kind: 'boolean' },
    'nats-token-file': { kind: 'string' },
    'nats-max-bytes': { kind: 'int', min: -1 },
    ui: { kind: 'string', choices: ['loopback', 'all', 'off'] },
  },
  check: (v) => [
    ...(!!v['tls-cert'] !== !!v['tls-key'] ? ['give both --tls-cert and --tls-key, or neither'] : []),
    ...(v['worker-token-file'] && !v.token && !v['token-file'] && !process.env.NPF_TOKEN
      ? ['--worker-token-file needs an administration token too (--token-file, --token or NPF_TOKEN)']
      : []),
  ],
});

/** Whether a host:port listen address binds only the loopback interface. */
export function isLoopbackListen(address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const dataDir = values['data-dir']!;
  const ui = (values.ui ?? 'loopback') as 'loopback' | 'all' | 'off';
  const token = resolveToken(values);
  if (!token) console.error('npf coordinator: WARNING: no --token/NPF_TOKEN: every client is accepted');
  const workerToken = values['worker-token-file'] ? readSecretFile('--worker-token-file', values['worker-token-file']) : undefined;
  // Loopback unless told otherwise; beyond loopback without TLS the token travels in clear.
  const grpcListen = values.listen ?? '127.0.0.1:7070';
  const httpListen = values.http === 'off' ? null : (values.http ?? '127.0.0.1:9464');
  if (!values['tls-cert'] && !isLoopbackListen(grpcListen)) {
    console.error(
      `npf coordinator: WARNING: gRPC listens on ${grpcListen} beyond loopback WITHOUT TLS: ` +
        `${token ? `the bearer token${workerToken ? 's' : ''} and ` : ''}every spec and result travel in clear (give --tls-cert/--tls-key, and --tls-client-ca for mTLS)`,
    );
  }
  const c = await startCoordinator({
    dataDir,
    grpcListen,
    httpListen,
    maxTrialsPerSweep: values['max-trials-per-sweep'],
    maxArtifactBytesPerSweep: values['max-artifact-bytes-per-sweep'],
    retentionDays: values['retention-days'],
    token,
    workerToken,
    tls: values['tls-cert'] ? { certFile: values['tls-cert'], keyFile: values['tls-key']!, caFile: values['tls-client-ca'] } : undefined,
    leaseTtlMs: values['lease-ttl-ms'],
    heartbeatIntervalMs: values['heartbeat-ms'],
    maxAttempts: values['max-attempts'],
    retryBackoffMs: values['retry-backoff-ms'],
    nats: values.nats
      ? {
          url: values.nats,
          required: !!values['nats-required'],
          token: values['nats-token-file'] ? readSecretFile('--nats-token-file', values['nats-token-file']) : undefined,
          maxBytes: values['nats-max-bytes'],
        }
      : undefined,
    ui,
    log: (line) => console.error(`[coordinator] ${new Date().toISOString()} ${line}`),
  });
  console.log(`npf coordinator: gRPC ${c.grpcAddress}${c.httpAddress ? `, http://${c.httpAddress}/metrics` : ''}${c.httpAddress && ui !== 'off' ? `, dashboard http://${c.httpAddress}/ (${ui})` : ''}, data ${dataDir}`);
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
