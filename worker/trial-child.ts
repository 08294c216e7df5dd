/**
 * Entry point of a trial child process (`node dist/worker/trial-child.js`, forked by the worker
 * with an IPC channel). It receives one StartTrialMessage, runs the trial and
 * reports progress and exactly one result or error, then exits. Or it receives one
 * StartBundleMessage, trains the members as one stack (science/fused/run-fused-trials.ts) and
 * reports per member, each result as soon as that member is done; CancelMemberMessage stops one. It downloads nothing: the worker
 * validated the spec and passes the verified parent checkpoint beside it (`gates`).
 *
 * Isolation is the point: an OOM or a crash inside TensorFlow.js kills this process, never the
 * worker. SIGTERM (a cancel, or a drain timeout) aborts the trial between steps; the parent
 * follows up with SIGKILL after a grace period. If the worker dies, the IPC channel closes and
 * the child exits too, so no orphan keeps training.
 *
 * NPF_TRIAL_RUNNER (read here and nowhere else) may select a test double from fake-trainer.ts.
 * NPF_GPU_INDEX (set by the worker from the lease, read here) is the GPU device the trial was
 * placed on; -1 means none (a CPU-only trial on a GPU worker).
 */
import { NpfError, describeError } from '../common/errors.js';
import type { RunTrialOptions, TrialResult, TrialSpec } from '../science/types.js';
import type { BundleMemberStart, ChildMessage, StartBundleMessage, StartTrialMessage } from './child-protocol.js';
import { isFakeRunnerName, runFakeTrial } from './fake-trainer.js';
import { isRetryable } from './failure.js';

type RunTrial = (spec: TrialSpec, opts: RunTrialOptions) => Promise<TrialResult>;

interface Runner {
  runTrial: RunTrial;
  tfjsBytes: () => number | undefined;
}

async function loadRunner(): Promise<Runner> {
  const name = process.env.NPF_TRIAL_RUNNER;
  if (name && name !== 'real') {
    if (!isFakeRunnerName(name)) throw new NpfError('INVALID_INPUT', `NPF_TRIAL_RUNNER=${name} is not a known trial runner (real, fake-sleep, fake-crash)`);
    return { runTrial: (spec, opts) => runFakeTrial(name, spec, opts), tfjsBytes: () => undefined };
  }
  // Loaded lazily: a fake runner never pays for TensorFlow.js.
  const [{ runTrial }, tf] = await Promise.all([import('../science/run-trial.js'), import('@tensorflow/tfjs-core')]);
  return { runTrial, tfjsBytes: tfjsMemoryProbe(tf) };
}

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

/** tf.memory().numBytes of the tfjs instance runTrial uses (same module), for npf_worker_tfjs_bytes. */
function tfjsMemoryProbe(tf: { memory(): { numBytes: number } }): () => number | undefined {
  return () => {
    try {
      return tf.memory().numBytes;
    } catch {
      return undefined;
    }
  };
}

async function runOne(start: StartTrialMessage): Promise<number> {
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  // Ctrl-C in a terminal reaches the whole process group: stop like a cancel, let the worker decide.
  process.on('SIGINT', () => abort.abort());
  try {
    const { runTrial, tfjsBytes } = await loadRunner();
    const gpu = process.env.NPF_GPU_INDEX;
    const result = await runTrial(start.spec, {
      gates: start.gates,
      ...(gpu !== undefined && /^-?\d+$/.test(gpu) ? { gpuIndex: Number(gpu) } : {}),
      checkpointDir: start.checkpointDir,
      resume: start.resume,
      resumeEveryMs: start.resumeEveryMs,
      signal: abort.signal,
      onProgress: (event) => {
        if (event.kind === 'step') return; // too chatty for IPC; epochs are what the coordinator wants
        void send({ type: 'progress', event, tfjsBytes: event.kind === 'epoch' ? tfjsBytes() : undefined });
      },
    });
    await send({ type: 'result', result });
    return 0;
  } catch (err) {
    const code = err instanceof NpfError ? err.code : undefined;
    await send({ type: 'error', code: code ?? 'ERROR', message: describeError(err), retryable: isRetryable(err) });
    if (!(err instanceof NpfError)) process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

/** How the members of a bundle run: fused (the real core), or each by the fake runner at once. */
type RunMembers = (
  members: BundleMemberStart[],
  opts: (m: BundleMemberStart) => RunTrialOptions,
  onOutcome: (i: number, outcome: { ok: true; result: TrialResult } | { ok: false; error: unknown }) => void,
) => Promise<void>;

async function loadBundleRunner(): Promise<{ runMembers: RunMembers; tfjsBytes: () => number | undefined }> {
  const name = process.env.NPF_TRIAL_RUNNER;
  if (name && name !== 'real') {
    if (!isFakeRunnerName(name)) throw new NpfError('INVALID_INPUT', `NPF_TRIAL_RUNNER=${name} is not a known trial runner (real, fake-sleep, fake-crash)`);
    const runMembers: RunMembers = async (members, opts, onOutcome) => {
      await Promise.all(
        members.map((m, i) =>
          runFakeTrial(name, m.spec, opts(m)).then(
            (result) => onOutcome(i, { ok: true, result }),
            (error: unknown) => onOutcome(i, { ok: false, error }),
          ),
        ),
      );
    };
    return { runMembers, tfjsBytes: () => undefined };
  }
  const [{ runFusedTrials }, tf] = await Promise.all([import('../science/fused/run-fused-trials.js'), import('@tensorflow/tfjs-core')]);
  const runMembers: RunMembers = async (members, opts, onOutcome) => {
    await runFusedTrials(
      members.map((m) => ({ spec: m.spec, options: opts(m) })),
      { onOutcome },
    );
  };
  return { runMembers, tfjsBytes: tfjsMemoryProbe(tf) };
}

function errorMessage(err: unknown, taskId: string): ChildMessage {
  const code = err instanceof NpfError ? err.code : undefined;
  if (!(err instanceof NpfError)) process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return { type: 'error', code: code ?? 'ERROR', message: describeError(err), retryable: isRetryable(err), taskId };
}

async function runBundle(start: StartBundleMessage): Promise<number> {
  const aborts = new Map(start.members.map((m) => [m.taskId, new AbortController()]));
  const abortAll = (): void => {
    for (const a of aborts.values()) a.abort();
  };
  process.on('SIGTERM', abortAll);
  process.on('SIGINT', abortAll);
  process.on('message', (m: unknown) => {
    const msg = m as { type?: string; taskId?: string };
    if (msg?.type === 'cancel-member' && msg.taskId) aborts.get(msg.taskId)?.abort();
  });
  const reported = new Set<string>();
  const sends: Promise<void>[] = [];
  try {
    const { runMembers, tfjsBytes } = await loadBundleRunner();
    // The bundle's GPU placement, as a single trial's (one process, one device for the stack).
    const gpu = process.env.NPF_GPU_INDEX;
    await runMembers(
      start.members,
      (m) => ({
        gates: m.gates,
        ...(gpu !== undefined && /^-?\d+$/.test(gpu) ? { gpuIndex: Number(gpu) } : {}),
        checkpointDir: m.checkpointDir,
        signal: aborts.get(m.taskId)?.signal,
        onProgress: (event) => {
          if (event.kind === 'step') return;
          void send({ type: 'progress', event, tfjsBytes: event.kind === 'epoch' ? tfjsBytes() : undefined, taskId: m.taskId });
        },
      }),
      (i, outcome) => {
        const taskId = start.members[i].taskId;
        reported.add(taskId);
        sends.push(send(outcome.ok ? { type: 'result', result: outcome.result, taskId } : errorMessage(outcome.error, taskId)));
      },
    );
    await Promise.all(sends);
    return 0;
  } catch (err) {
    // What the members share failed (backend, dataset, incompatible members): each member not yet
    // reported gets that error.
    await Promise.all(sends);
    await Promise.all(start.members.filter((m) => !reported.has(m.taskId)).map((m) => send(errorMessage(err, m.taskId))));
    return 1;
  }
}

if (!process.send) {
  process.stderr.write('trial-child: must be started by an npf worker with an IPC channel\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(1)); // the worker is gone: stop training
process.once('message', (m: unknown) => {
  const msg = m as StartTrialMessage | StartBundleMessage;
  if (msg?.type !== 'start' && msg?.type !== 'start-bundle') {
    process.stderr.write('trial-child: expected a start message\n');
    process.exit(2);
  }
  (msg.type === 'start' ? runOne(msg) : runBundle(msg)).then(
    (code) => {
      process.removeAllListeners('disconnect');
      process.exit(code);
    },
    () => process.exit(1),
  );
});
