/**
 * A bundle of leased tasks trained as one stacked process (trial-child.ts with a start-bundle
 * message, science/fused/run-fused-trials.ts inside). Like TrialProcess, but every member has its
 * own outcome: its result as soon as the child reports it, or, if the process ends first, the
 * failure (or stop) of the process as a whole. One member is stopped by cancelMember (the child
 * drops it from the stack); stop() ends them all.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { TrialProgress, TrialResult } from '../science/types.js';
import { isChildMessage, type BundleMemberStart, type CancelMemberMessage, type StartBundleMessage } from './child-protocol.js';
import { classifyChildExit, type ChildExit } from './failure.js';
import { STDERR_TAIL_LINES, type TrialProcessOutcome } from './trial-process.js';

export interface BundleProcessOptions {
  childScript: string;
  members: BundleMemberStart[];
  env?: NodeJS.ProcessEnv;
  maxOldSpaceMb?: number;
  onProgress?: (taskId: string, event: TrialProgress, tfjsBytes?: number) => void;
}

interface Member {
  result?: TrialResult;
  error?: ChildExit['childError'];
  settle: (o: TrialProcessOutcome) => void;
  outcome: Promise<TrialProcessOutcome>;
  settled: boolean;
}

export class BundleProcess {
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
  private stopping = false;
  private readonly members = new Map<string, Member>();
  private readonly tail: string[] = [];
  private partial = '';

  constructor(opts: BundleProcessOptions) {
    for (const m of opts.members) {
      let settle!: (o: TrialProcessOutcome) => void;
      const outcome = new Promise<TrialProcessOutcome>((r) => (settle = r));
      this.members.set(m.taskId, { settle, outcome, settled: false });
    }
    const execArgv = opts.maxOldSpaceMb ? [`--max-old-space-size=${Math.floor(opts.maxOldSpaceMb)}`] : [];
    this.child = fork(opts.childScript, [], { execArgv, env: opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.onStderr(chunk));
    this.child.on('message', (msg: unknown) => {
      if (!isChildMessage(msg) || msg.taskId === undefined) return;
      const m = this.members.get(msg.taskId);
      if (!m) return;
      if (msg.type === 'progress') opts.onProgress?.(msg.taskId, msg.event, msg.tfjsBytes);
      else if (msg.type === 'result') this.finish(m, { kind: 'result', result: msg.result });
      else {
        // A member's own error is final at once (the child says whether it is deterministic).
        m.error = { code: msg.code, message: msg.message, retryable: msg.retryable };
        const exit: ChildExit = { code: null, signal: null, childError: m.error, stderrTail: [...this.tail] };
        this.finish(m, { kind: 'failed', verdict: classifyChildExit(exit), exit });
      }
    });
    this.exited = new Promise<void>((resolve) => {
      let done = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        if (this.partial) this.pushLine(this.partial);
        // Members still without a result end with the process.
        for (const m of this.members.values()) {
          const exit: ChildExit = { code, signal, stderrTail: [...this.tail] };
          this.finish(m, this.stopping ? { kind: 'stopped', exit } : { kind: 'failed', verdict: classifyChildExit(exit), exit });
        }
        resolve();
      };
      this.child.on('exit', end);
      this.child.on('error', (err) => {
        this.pushLine(`failed to start the bundle process: ${err.message}`);
        end(127, null);
      });
    });
    const start: StartBundleMessage = { type: 'start-bundle', members: opts.members };
    this.child.send(start);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The member's outcome (its result, or how the process ended for it). */
  outcome(taskId: string): Promise<TrialProcessOutcome> {
    const m = this.members.get(taskId);
    if (!m) throw new Error(`task ${taskId} is not in this bundle`);
    return m.outcome;
  }

  /** Stop one member between steps; the others go on. */
  cancelMember(taskId: string): void {
    if (this.child.connected) this.child.send({ type: 'cancel-member', taskId } satisfies CancelMemberMessage);
  }

  /** SIGTERM (every member aborts between steps), then SIGKILL after `graceMs`. Resolves when it has exited. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  private finish(m: Member, o: TrialProcessOutcome): void {
    if (m.settled) return;
    m.settled = true;
    m.settle(o);
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
}
