/**
 * `npf worker`: lease trials from a coordinator and run them, each in a child process.
 * SIGTERM/SIGINT drain: no new leases, running trials get --drain-grace-s to finish (default
 * 25 s), the rest are killed and handed back, then exit 0. Under Kubernetes give
 * --termination-grace-s (the pod's terminationGracePeriodSeconds) instead: the drain grace is
 * then what fits before the kubelet's SIGKILL, with a margin (worker/drain-budget.ts).
 */
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { InvalidInputError } from '../../common/errors.js';
import { BACKENDS as ALL_BACKENDS } from '../../science/backend/backend-choice.js';
import type { BackendName } from '../../science/types.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { CONNECTION_FLAGS, resolveToken } from '../connection.js';
import { resolveDrainGraceMs } from '../../worker/drain-budget.js';
import { clientTlsFromFlags } from '../../common/grpc-client-credentials.js';
import { startWorker } from '../../worker/main.js';

const USAGE = `usage: npf worker --coordinator HOST:PORT [options]

  --coordinator HOST:PORT   coordinator gRPC address (required)
  --token TOKEN             the worker token (or env NPF_TOKEN, or --token-file): the file of the coordinator's
                            --worker-token-file, or its only token when it has one (docs/security.md)
  --token-file FILE         read the token from FILE
  --tls-ca FILE             use TLS, trusting this CA (--tls for the system roots)
  --tls-cert FILE           mutual TLS: this worker's certificate (PEM) ...
  --tls-key FILE            ... and its key (for a coordinator started with --tls-client-ca)
  --cpus N                  CPU cores offered (default: all cores)
  --gpus N                  GPU devices offered (default: the hardware GPUs found, see docs/webgpu.md)
  --memory-mb N             memory offered in MiB (default: total memory)
  --memory-headroom-mb N    keep N MiB of that for this process and native memory (default 0)
  --concurrency N           trials at once (default: --cpus)
  --work-dir DIR            checkpoint cache and scratch (default ./.npf-worker)
  --backend B               backend for specs that say auto: ${ALL_BACKENDS.filter((b) => b !== 'auto').join(', ')}
  --fuse N|off              most compatible trials trained as one stacked process (fused trials;
                            default: 8 where FC trials run on wasm, otherwise off)
  --http HOST:PORT          /metrics and /healthz (default 0.0.0.0:9465; 'off' to disable)
  --drain-grace-s S         on SIGTERM, seconds running trials may go on (default 25)
  --termination-grace-s S   seconds between SIGTERM and SIGKILL (Kubernetes: the pod's
                            terminationGracePeriodSeconds): the drain grace is what fits in S
                            with a 5 s margin, or --drain-grace-s is checked to fit
  --resume-every-s S        a running trial saves a resume state at an epoch's end at most every
                            S seconds (default 30; 0: every epoch); an interrupted trial's next
                            attempt continues from the last one (docs/resume.md)`;

const BACKENDS: readonly BackendName[] = ALL_BACKENDS;

const SPEC = defineCommand({
  command: 'worker',
  usage: USAGE,
  flags: {
    ...CONNECTION_FLAGS,
    coordinator: { kind: 'string', required: true },
    cpus: { kind: 'number', min: 0 },
    gpus: { kind: 'int', min: 0 },
    'memory-mb': { kind: 'int', min: 0 },
    concurrency: { kind: 'int', min: 1 },
    'work-dir': { kind: 'string' },
    backend: { kind: 'string', choices: BACKENDS },
    fuse: { kind: 'string' },
    http: { kind: 'string' },
    'drain-grace-s': { kind: 'number', min: 0 },
    'termination-grace-s': { kind: 'number', min: 0 },
    'memory-headroom-mb': { kind: 'int', min: 0 },
    'resume-every-s': { kind: 'number', min: 0 },
  },
  check: (v) => (Number.isNaN(parseFuse(v.fuse)) ? [`--fuse expects 'off' or a whole number from 1 to 64, got '${v.fuse}'`] : []),
});

/** --fuse: 'off' (one trial per process) or a whole number 1..64; undefined: the backend's default; NaN: invalid. */
function parseFuse(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'off') return 1;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : Number.NaN;
}

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const coordinator = values.coordinator!;
  const token = resolveToken(values);
  const { cpus, concurrency } = values;
  const graceS = values['drain-grace-s'];
  const terminationS = values['termination-grace-s'];
  const drainGraceMs = resolveDrainGraceMs({
    drainGraceMs: graceS === undefined ? undefined : Math.round(graceS * 1000),
    terminationGraceMs: terminationS === undefined ? undefined : Math.round(terminationS * 1000),
  });
  // Headroom: the container limit also holds this parent process, gRPC buffers and the trials'
  // native (non-V8) memory, which the per-trial memory_mb does not count.
  const headroomMb = values['memory-headroom-mb'] ?? 0;
  let memoryMb = values['memory-mb'];
  if (headroomMb > 0) {
    const whole = memoryMb ?? Math.floor(totalmem() / (1024 * 1024));
    memoryMb = whole - headroomMb;
    if (memoryMb < 1) throw new InvalidInputError(`--memory-headroom-mb ${headroomMb}: leaves nothing of ${whole} MiB to offer`, { headroomMb, memoryMb: whole });
  }
  const fuse = parseFuse(values.fuse);

  // A signal while still registering: nothing is leased yet, so there is nothing to hand back.
  const early = (sig: NodeJS.Signals) => {
    process.stderr.write(`npf worker: ${sig} before registering with ${coordinator}: exiting\n`);
    process.exit(0);
  };
  process.on('SIGTERM', early);
  process.on('SIGINT', early);
  const worker = await startWorker({
    coordinator,
    token: token || undefined,
    tls: clientTlsFromFlags(values),
    resources: { cpu: cpus === 0 ? undefined : cpus, gpu: values.gpus, memoryMb },
    concurrency,
    workDir: resolve(values['work-dir'] ?? '.npf-worker'),
    backend: values.backend as BackendName | undefined,
    fuse,
    httpListen: values.http === 'off' ? null : values.http,
    drainGraceMs,
    resumeEveryMs: values['resume-every-s'] === undefined ? undefined : Math.round(values['resume-every-s'] * 1000),
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
