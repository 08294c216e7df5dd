/**
 * `npf run <spec.yaml>`: the embedded default. Starts a coordinator in this process (SQLite in
 * --data-dir, gRPC on --listen, default 127.0.0.1:0, with NPF_TOKEN or a random token for
 * administration and a separate random worker token, docs/security.md) and local worker
 * PROCESSES over real gRPC on loopback (given the worker token only), submits the sweep, shows live progress on
 * stderr, and at the end prints the results table (Markdown) on stdout and writes the sweep's
 * folder <data-dir>/sweeps/<sweep-id>/ (cli/sweep-outputs.ts: sweep.json, spec.resolved.yaml,
 * results.*, trials.csv, epochs.csv, figures), with a link <data-dir>/sweeps/<name> to it.
 *
 * While it runs, <data-dir>/run.json names its pid, address and token file (run.token, mode
 * 0600), so `npf cancel` (and any command given --coordinator and --token-file) can attach.
 *
 * Re-running the same command resumes: the coordinator's store keeps every finished trial (a
 * trial's id is the hash of its config), so only what is missing runs. Ctrl-C stops the workers;
 * running trials are handed back as interrupted (not counted as failed attempts) and continue
 * from their last resume checkpoint on the re-run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, describeError } from '../../common/errors.js';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import { trialLabel } from '../../coordinator/results/trial-label.js';
import { expandSpecVariables, parseSweepSpec } from '../../coordinator/sweep-spec/parse-sweep.js';
import { isSweepEnd } from '../../events/event-schema.js';
import { formatEvent } from '../../events/format-event.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { fitWidth } from '../trial-board.js';
import { LIVE_RUN_FILE, type LiveRunFile } from '../sweep-access.js';
import { linkSweepName, writeSweepMeta, writeSweepOutputs, type SweepMeta } from '../sweep-outputs.js';

export { trialLabel };

const USAGE = `usage: npf run <spec.yaml> [options]

  --set PATH=VALUE     override a spec field (repeatable), e.g. --set epochs=2
  --data-dir DIR       coordinator state, checkpoints and results (default ./.npf)
  --workers N          local worker processes (default: CPU cores, at most one per trial)
  --plain              one line per event even on a terminal
  --lease-ttl-ms MS    lease time-to-live of the embedded coordinator (default 30000)
  --nats URL           also publish the sweep's events to NATS JetStream (docs/events.md)
  --http HOST:PORT     serve the embedded coordinator's /metrics, /healthz, /readyz (default: off)
  --resume-every-s S   a running trial saves a resume state at an epoch's end at most every S
                       seconds (default 30; 0: every epoch): Ctrl-C, then the same command,
                       continues each stopped trial from its last one (docs/resume.md)
  --listen HOST:PORT   the embedded coordinator's gRPC address (default 127.0.0.1 on a free port),
                       so other commands can attach: npf status --coordinator HOST:PORT
                       --token-file <data-dir>/run.token (the token is NPF_TOKEN when set)`;

const SPEC = defineCommand({
  command: 'run',
  usage: USAGE,
  flags: {
    set: { kind: 'list' },
    'data-dir': { kind: 'string' },
    workers: { kind: 'int', min: 1 },
    plain: { kind: 'boolean' },
    'lease-ttl-ms': { kind: 'int', min: 300 },
    nats: { kind: 'string' },
    http: { kind: 'string' },
    listen: { kind: 'string' },
    'resume-every-s': { kind: 'number', min: 0 },
  },
  positionals: { min: 1, max: 1, what: 'sweep spec file' },
  check: (v) => (v.listen !== undefined && !/^(\[[^\]]+\]|[^:\s]+):\d+$/.test(v.listen) ? [`--listen expects HOST:PORT, got '${v.listen}'`] : []),
});

/** What the live display knows about one sweep (plain data; rendered by renderProgress). */
export interface ProgressModel {
  name: string;
  total: number;
  counts: Record<string, number>;
  /** Running trials: label, epochs finished (0 during the first), its latest test accuracy. */
  running: Map<string, { label: string; epoch: number; epochs?: number; accuracy?: number; startedMs: number }>;
  /** Durations (ms) of trials finished in this run, for the ETA. */
  finishedMs: number[];
  workers: number;
  startedMs: number;
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** ETA: mean duration of trials finished in this run x trials left / workers (unknown before the first). */
export function estimateRemainingMs(m: ProgressModel): number | undefined {
  if (m.finishedMs.length === 0) return undefined;
  const mean = m.finishedMs.reduce((a, b) => a + b, 0) / m.finishedMs.length;
  const left = m.total - (m.counts.succeeded ?? 0) - (m.counts.failed ?? 0) - (m.counts.cancelled ?? 0);
  return (mean * left) / Math.max(1, m.workers);
}

/**
 * The redrawn TTY block: tasks by state, each running trial's epoch in progress (epoch 1/3 from
 * its start, never 'epoch 0') and accuracy, the ETA. Each line is cut to `width` columns and the
 * block to `maxLines` lines, so it never wraps or scrolls: clearing it by cursor moves then
 * leaves no stale line.
 */
export function renderProgress(m: ProgressModel, now: number, width?: number, maxLines?: number): string[] {
  const c = m.counts;
  const done = (c.succeeded ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0);
  const eta = estimateRemainingMs(m);
  const lines = [
    `${m.name}: ${done}/${m.total} done | elapsed ${fmtDuration(now - m.startedMs)}${eta !== undefined ? `, ETA ${fmtDuration(eta)}` : ''} | succeeded ${c.succeeded ?? 0}, failed ${c.failed ?? 0}${c.cancelled ? `, cancelled ${c.cancelled}` : ''}, running ${(c.running ?? 0) + (c.leased ?? 0)}, pending ${c.pending ?? 0}, blocked ${c.blocked ?? 0}`,
  ];
  const running = [...m.running.values()].sort((a, b) => a.label.localeCompare(b.label));
  const room = maxLines !== undefined ? Math.max(0, maxLines - 1) : Infinity;
  const shown = running.length > room ? running.slice(0, Math.max(0, room - 1)) : running;
  for (const r of shown) {
    const acc = r.accuracy !== undefined ? `, test acc ${(r.accuracy * 100).toFixed(2)}%` : '';
    const current = r.epochs ? Math.min(r.epoch + 1, r.epochs) : r.epoch + 1;
    lines.push(`  ${r.label}: epoch ${current}${r.epochs ? `/${r.epochs}` : ''}${acc} (${fmtDuration(now - r.startedMs)})`);
  }
  if (shown.length < running.length) lines.push(`  ... and ${running.length - shown.length} more running`);
  return lines.map((l) => fitWidth(l, width));
}

function npfBin(): string {
  // dist/cli/commands/run.js -> <root>/bin/npf.js
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'npf.js');
}

interface LocalWorker {
  proc: ChildProcess;
  exited: Promise<number | null>;
}

function spawnWorker(i: number, address: string, token: string, dataDir: string, memoryMb: number, log: WriteStream, resumeEveryS: number | undefined): LocalWorker {
  const args = [npfBin(), 'worker', '--coordinator', address, '--cpus', '1', '--concurrency', '1', '--memory-mb', String(memoryMb), '--work-dir', join(dataDir, 'workers', String(i)), '--http', 'off', '--drain-grace-s', '2'];
  if (resumeEveryS !== undefined) args.push('--resume-every-s', String(resumeEveryS));
  const proc = spawn(process.execPath, args, { env: { ...process.env, NPF_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, exited };
}

async function stopWorkers(workers: LocalWorker[], timeoutMs = 15_000): Promise<void> {
  for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGTERM');
  const timer = setTimeout(() => workers.forEach((w) => w.proc.exitCode === null && w.proc.kill('SIGKILL')), timeoutMs);
  await Promise.all(workers.map((w) => w.exited));
  clearTimeout(timer);
}

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const specFile = positionals[0];
  let specYaml: string;
  try {
    // Variables are expanded here, by the client; the coordinator never expands its environment.
    specYaml = expandSpecVariables(readFileSync(specFile, 'utf8'), process.env, specFile);
  } catch (err) {
    throw new InvalidInputError(`cannot read sweep spec ${specFile}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`, { file: specFile });
  }
  const workersWanted = values.workers;
  const leaseTtlMs = values['lease-ttl-ms'];
  const dataDir = resolve(values['data-dir'] ?? '.npf');
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const logFile = join(dataDir, 'logs', 'run.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const logLine = (l: string) => log.write(`${new Date().toISOString()} ${l}\n`);
  const tty = !!process.stderr.isTTY && !values.plain;
  const token = process.env.NPF_TOKEN || randomBytes(16).toString('hex');
  // The local workers get their own token: it cannot submit or cancel, and the administration
  // token (run.token, which other commands attach with) is refused on worker rpcs.
  const workerToken = randomBytes(16).toString('hex');

  const rc: RunningCoordinator = await startCoordinator({
    dataDir,
    grpcListen: values.listen ?? '127.0.0.1:0',
    httpListen: values.http ?? null,
    token,
    workerToken,
    nats: values.nats ? { url: values.nats } : undefined,
    log: (l) => logLine(`coordinator: ${l}`),
    // Every lease in the store belongs to a worker of an earlier, stopped run of this directory:
    // hand those back as interrupted (not failed attempts), so the resume need not wait out the TTL.
    releaseLeasesAtStart: 'its worker belonged to an earlier npf run, which ended',
    // Short leases bring a killed worker's task back sooner; heartbeats keep to a third of the TTL.
    leaseTtlMs,
    // Loopback heartbeats are cheap: once a second keeps the display's epochs current.
    heartbeatIntervalMs: leaseTtlMs ? Math.max(100, Math.min(1000, Math.floor(leaseTtlMs / 3))) : 1000,
  });
  if (rc.httpAddress) process.stderr.write(`npf run: metrics on http://${rc.httpAddress}/metrics\n`);
  // Let other commands attach while this run lives (removed in the finally below).
  const tokenFile = join(dataDir, 'run.token');
  const runFile = join(dataDir, LIVE_RUN_FILE);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  writeFileSync(runFile, `${JSON.stringify({ pid: process.pid, address: rc.grpcAddress, tokenFile } satisfies LiveRunFile)}\n`);
  if (values.listen) process.stderr.write(`npf run: coordinator on ${rc.grpcAddress} (attach: npf status --coordinator ${rc.grpcAddress} --token-file ${tokenFile})\n`);
  const workers: LocalWorker[] = [];
  let interrupted = false;
  let redraw: NodeJS.Timeout | undefined;
  let drawn = 0;
  const clearBlock = () => {
    if (tty && drawn > 0) process.stderr.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  try {
    const released = rc.leasesReleasedAtStart;
    if (released > 0) process.stderr.write(`npf run: ${released} lease(s) held by workers of an earlier run released\n`);
    const overrides = values.set ?? [];
    const submitted = await rc.submitSweep(specYaml, basename(specFile), overrides);
    const { sweepId, totalTasks, alreadyDone } = submitted;
    const info = rc.core.getSweep(sweepId);
    // The sweep's folder says which sweep it is from the start (name, resolved spec).
    const outDir = join(dataDir, 'sweeps', sweepId);
    const meta = (): SweepMeta => {
      const now = rc.core.getSweep(sweepId);
      return {
        sweepId,
        name: now.name,
        state: now.state,
        createdAtMs: now.createdAtMs,
        counts: { ...now.counts },
        fileName: specFile,
        overrides,
        resolvedSpec: parseSweepSpec(specYaml, { file: basename(specFile), env: process.env, set: overrides }),
      };
    };
    writeSweepMeta(outDir, meta());
    linkSweepName(join(dataDir, 'sweeps'), info.name, sweepId);
    process.stderr.write(`npf run: sweep ${info.name} (${sweepId}): ${totalTasks} trials; ${alreadyDone} of ${totalTasks} trials already done\n`);
    process.stderr.write(`npf run: state in ${dataDir}, logs in ${logFile}\n`);
    process.stderr.write(`npf run: watch it in a browser: npx npf ui --data-dir ${dataDir}\n`);

    const known = rc.core.outcomes(sweepId);
    const keys = new Map(known.map((o) => [o.taskId, o.key]));
    const epochsOf = new Map(known.map((o) => [o.taskId, o.spec?.epochs]));
    const model: ProgressModel = { name: info.name, total: totalTasks, counts: { ...rc.core.countsOf(sweepId) } as unknown as Record<string, number>, running: new Map(), finishedMs: [], workers: 0, startedMs: Date.now() };
    const isOpen = () => rc.core.getSweep(sweepId).state === 'running';

    if (isOpen()) {
      const remaining = totalTasks - alreadyDone;
      const n = Math.max(1, Math.min(workersWanted ?? cpus().length, remaining));
      model.workers = n;
      const memoryMb = Math.max(256, Math.floor(totalmem() / (1024 * 1024) / n));
      for (let i = 0; i < n; i++) workers.push(spawnWorker(i, rc.grpcAddress, workerToken, dataDir, memoryMb, log, values['resume-every-s']));
      process.stderr.write(`npf run: ${n} local worker process(es) on ${rc.grpcAddress}\n`);

      await new Promise<void>((resolveDone) => {
        const finish = () => {
          unsubscribe();
          process.off('SIGINT', onSigint);
          process.off('SIGTERM', onSigint);
          resolveDone();
        };
        const onSigint = () => {
          if (interrupted) return;
          interrupted = true;
          clearBlock();
          process.stderr.write('npf run: interrupted: stopping workers; finished trials are kept (run the same command to resume)\n');
          finish();
        };
        process.on('SIGINT', onSigint);
        process.on('SIGTERM', onSigint);
        const unsubscribe = rc.core.onEvent((e) => {
          if (e.sweepId !== sweepId) return;
          const label = e.taskId !== undefined ? trialLabel(keys.get(e.taskId), e.taskId) : undefined;
          if (e.type === 'task.leased') {
            model.running.set(e.taskId, { label: label!, epoch: 0, epochs: epochsOf.get(e.taskId), startedMs: e.timeMs });
          } else if (e.type === 'task.progress') {
            const r = model.running.get(e.taskId);
            if (r) Object.assign(r, { epoch: e.payload.epoch, epochs: e.payload.epochs || r.epochs, accuracy: e.payload.testAccuracy });
          } else if (e.type === 'task.succeeded') {
            const r = model.running.get(e.taskId);
            if (r) model.finishedMs.push(e.timeMs - r.startedMs);
            model.running.delete(e.taskId);
          } else if (e.type === 'task.retried' || e.type === 'task.failed' || e.type === 'task.cancelled') {
            model.running.delete(e.taskId);
          }
          const line = formatEvent(e, { label, time: false });
          model.counts = { ...rc.core.countsOf(sweepId) } as unknown as Record<string, number>;
          logLine(line);
          if (!tty) process.stderr.write(`npf run: ${line}\n`);
          if (isSweepEnd(e)) finish();
        });
        for (const w of workers) {
          void w.exited.then(() => {
            if (workers.every((x) => x.proc.exitCode !== null || x.proc.signalCode !== null) && !interrupted && isOpen()) {
              clearBlock();
              process.stderr.write(`npf run: every worker process exited before the sweep finished; see ${logFile}\n`);
              finish();
            }
          });
        }
        if (tty) {
          redraw = setInterval(() => {
            clearBlock();
            // Read each time: the terminal may have been resized since the last draw.
            const lines = renderProgress(model, Date.now(), process.stderr.columns, process.stderr.rows ? process.stderr.rows - 1 : undefined);
            process.stderr.write(`${lines.join('\n')}\n`);
            drawn = lines.length;
          }, 500);
        }
        if (!isOpen()) finish(); // finished between submit and subscribe
      });
      if (redraw) clearInterval(redraw);
      clearBlock();
      await stopWorkers(workers);
    }

    // The table: whatever finished, plus the failures with their error.
    const outcomes = rc.core.outcomes(sweepId);
    const finished = outcomes.filter((o) => o.status === 'succeeded' || o.status === 'diverged').length;
    const written = await writeSweepOutputs(outDir, meta(), (format) => rc.results(sweepId, format).table, finished);
    const markdown = readFileSync(join(outDir, 'results.md'), 'utf8');
    process.stdout.write(markdown);
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length > 0) {
      process.stdout.write(`\nFailed trials (${failed.length}):\n`);
      for (const o of failed) process.stdout.write(`- ${trialLabel(o.key, o.taskId)}: ${(rc.core.taskState(o.taskId).error ?? 'no error recorded').split('\n')[0]}\n`);
    }
    process.stderr.write(`npf run: ${finished} of ${outcomes.length} trials finished; results in ${outDir}/results.{md,csv,json,tex}, trials.csv, epochs.csv\n`);
    // Figures are a convenience on top of the table: a drawing problem is reported, never fatal.
    if ('error' in written.figures) process.stderr.write(`npf run: figures not drawn: ${written.figures.error}\n`);
    else if (written.figures.length > 0) process.stderr.write(`npf run: ${written.figures.length} figure(s) in ${join(outDir, 'figures')} (redraw with: npf plot ${outDir})\n`);
    if (interrupted) return 130;
    return failed.length > 0 || finished < outcomes.length ? 1 : 0;
  } finally {
    if (redraw) clearInterval(redraw);
    if (workers.some((w) => w.proc.exitCode === null && w.proc.signalCode === null)) await stopWorkers(workers, 5000);
    await rc.stop();
    rmSync(runFile, { force: true });
    rmSync(tokenFile, { force: true });
    await new Promise<void>((r) => log.end(() => r()));
  }
}

