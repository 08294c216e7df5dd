/**
 * `npf worker`: lease trials from a coordinator and run them, each in a child process.
 * SIGTERM/SIGINT drain: no new leases, running trials get --drain-grace-s to finish (default
 * 25 s: Kubernetes gives 30), the rest are killed and handed back, then exit 0.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../common/errors.js';
import type { BackendName } from '../../science/types.js';
import { resolveToken } from '../connection.js';
import { startWorker } from '../../worker/main.js';

const USAGE = `usage: npf worker --coordinator HOST:PORT [options]

  --coordinator HOST:PORT   coordinator gRPC address (required)
  --token TOKEN             bearer token (or env NPF_TOKEN, or --token-file)
  --token-file FILE         read the token from FILE
  --tls-ca FILE             use TLS, trusting this CA (--tls for the system roots)
  --cpus N                  CPU cores offered (default: all cores)
  --gpus N                  GPU devices offered (default 0)
  --memory-mb N             memory offered in MiB (default: total memory)
  --concurrency N           trials at once (default: --cpus)
  --work-dir DIR            checkpoint cache and scratch (default ./.npf-worker)
  --backend B               backend for specs that say auto: wasm, cpu, tensorflow, tensorflow-gpu
  --http HOST:PORT          /metrics and /healthz (default 0.0.0.0:9465; 'off' to disable)
  --drain-grace-s S         on SIGTERM, seconds running trials may go on (default 25)`;

function num(flag: string, v: string | undefined, int = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (int && !Number.isInteger(n))) throw new InvalidInputError(`--${flag} ${v}: expected a ${int ? 'whole ' : ''}number >= 0`, { flag, value: v });
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        coordinator: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        tls: { type: 'boolean' },
        'tls-ca': { type: 'string' },
        cpus: { type: 'string' },
        gpus: { type: 'string' },
        'memory-mb': { type: 'string' },
        concurrency: { type: 'string' },
        'work-dir': { type: 'string' },
        backend: { type: 'string' },
        http: { type: 'string' },
        'drain-grace-s': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new InvalidInputError(`worker: ${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.coordinator) throw new InvalidInputError(`worker: --coordinator HOST:PORT is required\n${USAGE}`);
  const token = resolveToken(values);
  const backends = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'];
  if (values.backend && !backends.includes(values.backend)) throw new InvalidInputError(`--backend ${values.backend}: expected one of ${backends.join(', ')}`);
  const concurrency = num('concurrency', values.concurrency);
  if (concurrency === 0) throw new InvalidInputError('--concurrency 0: expected at least 1');
  const cpus = num('cpus', values.cpus, false);
  const graceS = num('drain-grace-s', values['drain-grace-s'], false);

  // A signal while still registering: nothing is leased yet, so there is nothing to hand back.
  const early = (sig: NodeJS.Signals) => {
    process.stderr.write(`npf worker: ${sig} before registering with ${values.coordinator}: exiting\n`);
    process.exit(0);
  };
  process.on('SIGTERM', early);
  process.on('SIGINT', early);
  const worker = await startWorker({
    coordinator: values.coordinator,
    token: token || undefined,
    tls: values['tls-ca'] ? { caFile: values['tls-ca'] } : values.tls ? {} : undefined,
    resources: { cpu: cpus === 0 ? undefined : cpus, gpu: num('gpus', values.gpus), memoryMb: num('memory-mb', values['memory-mb']) },
    concurrency,
    workDir: resolve(values['work-dir'] ?? '.npf-worker'),
    backend: values.backend as BackendName | undefined,
    httpListen: values.http === 'off' ? null : values.http,
    drainGraceMs: graceS === undefined ? undefined : Math.round(graceS * 1000),
  });
  process.off('SIGTERM', early);
  process.off('SIGINT', early);
  if (worker.httpAddress) process.stderr.write(`npf worker ${worker.workerId}: /metrics and /healthz on http://${worker.httpAddress}\n`);
  let draining = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (draining) {
      process.stderr.write(`npf worker: second ${sig}: stopping now\n`);
      void worker.stop();
      return;
    }
    draining = true;
    process.stderr.write(`npf worker: ${sig}: draining\n`);
    void worker.drain();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await worker.closed;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return draining ? 0 : 1;
}
