/**
 * One trial running in its own child process (see trial-child.ts). Collects progress over IPC
 * and the last lines of stderr, and turns however the child ended into a TrialProcessOutcome.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { CheckpointRef, TrialProgress, TrialResult, TrialSpec } from '../science/types.js';
import { isChildMessage, type StartTrialMessage } from './child-protocol.js';
import { classifyChildExit, type ChildExit, type FailureVerdict } from './failure.js';

export const STDERR_TAIL_LINES = 20;

export interface TrialProcessOptions {
  /** Compiled child entry (dist/worker/trial-child.js). */
  childScript: string;
  spec: TrialSpec;
  /** The parent checkpoint (a local verified file) for a trial that takes its gates from one. */
  gates?: CheckpointRef;
  checkpointDir: string;
  /** An earlier attempt's resume state (local, verified) to continue from. */
  resume?: CheckpointRef;
  /** How often the trial writes a resume state (RunTrialOptions.resumeEveryMs). */
  resumeEveryMs?: number;
  env?: NodeJS.ProcessEnv;
  /** V8 heap limit for the child (MiB), so a runaway trial dies alone with a clear OOM. */
  maxOldSpaceMb?: number;
  onProgress?: (event: TrialProgress, tfjsBytes?: number) => void;
}

export type TrialProcessOutcome =
  | { kind: 'result'; result: TrialResult }
  | { kind: 'failed'; verdict: FailureVerdict; exit: ChildExit }
  /** Stopped on purpose by stop() (cancel or drain). */
  | { kind: 'stopped'; exit: ChildExit };

export class TrialProcess {
  readonly child: ChildProcess;
  readonly done: Promise<TrialProcessOutcome>;
  private stopping = false;
  private readonly tail: string[] = [];
  private partial = '';

  constructor(opts: TrialProcessOptions) {
    const execArgv = opts.maxOldSpaceMb ? [`--max-old-space-size=${Math.floor(opts.maxOldSpaceMb)}`] : [];
    this.child = fork(opts.childScript, [], { execArgv, env: opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    let result: TrialResult | undefined;
    let childError: ChildExit['childError'];
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.onStderr(chunk));
    this.child.on('message', (m: unknown) => {
      if (!isChildMessage(m)) return;
      if (m.type === 'progress') opts.onProgress?.(m.event, m.tfjsBytes);
      else if (m.type === 'result') result = m.result;
      else childError = { code: m.code, message: m.message, retryable: m.retryable };
    });
    this.done = new Promise<TrialProcessOutcome>((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (settled) return;
        settled = true;
        if (this.partial) this.pushLine(this.partial);
        const exit: ChildExit = { code, signal, childError, stderrTail: [...this.tail] };
        if (result && !childError) resolve({ kind: 'result', result });
        else if (this.stopping) resolve({ kind: 'stopped', exit });
        else resolve({ kind: 'failed', verdict: classifyChildExit(exit), exit });
      };
      this.child.on('exit', finish);
      this.child.on('error', (err) => {
        this.pushLine(`failed to start the trial process: ${err.message}`);
        finish(127, null);
      });
    });
    const start: StartTrialMessage = { type: 'start', spec: opts.spec, gates: opts.gates, checkpointDir: opts.checkpointDir, resume: opts.resume, resumeEveryMs: opts.resumeEveryMs };
    this.child.send(start);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private pushLine(line: string): void {
    this.tail.push(line);
    if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
  }

  private onStderr(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.pushLine(l);
  }

  /** SIGTERM (the child aborts between steps), then SIGKILL after `graceMs`. Resolves when it has exited. */
  async stop(graceMs: number): Promise<TrialProcessOutcome> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      const outcome = await this.done;
      clearTimeout(timer);
      return outcome;
    }
    return this.done;
  }
}
