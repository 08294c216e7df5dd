/**
 * The log of one trial (`npf logs <trial>`), from what is kept about it: its events in the
 * sweep's event log (leases, each epoch, retries and failures with their whole message, which
 * ends with the trial process's last stderr lines, its result), and, in a local run directory,
 * the lines its workers and the embedded coordinator wrote about it to logs/run.log. Pure.
 */
import type { PrintableEvent } from '../events/format-event.js';
import { formatEvent, sanitizeForTerminal } from '../events/format-event.js';
import type { TrialInfo } from './trial-board.js';

/** Characters of a task id that the worker's and coordinator's log lines print. */
export const LOG_ID_CHARS = 12;

/** The trial `ref` names among `trials`: its id, a unique prefix (6+ characters), or its label. */
export function findTrial(trials: readonly TrialInfo[], ref: string): { found: TrialInfo } | { ambiguous: TrialInfo[] } | { none: true } {
  const exact = trials.find((t) => t.taskId === ref);
  if (exact) return { found: exact };
  const byLabel = trials.filter((t) => t.label === ref);
  const byPrefix = ref.length >= 6 ? trials.filter((t) => t.taskId.startsWith(ref)) : [];
  const matches = [...new Map([...byLabel, ...byPrefix].map((t) => [t.taskId, t])).values()];
  if (matches.length === 1) return { found: matches[0] };
  if (matches.length > 1) return { ambiguous: matches };
  return { none: true };
}

/** The whole text of a failure or retry (its event line shows only the first line). */
function detail(e: PrintableEvent): string[] {
  const p = e.payload as { message?: unknown };
  if ((e.type !== 'task.failed' && e.type !== 'task.retried') || typeof p.message !== 'string') return [];
  const rest = p.message.split('\n').slice(1);
  return rest.filter((l) => l.trim() !== '').map((l) => `    | ${sanitizeForTerminal(l)}`);
}

/** The trial's log: a heading, its events (with whole failure messages), then its run.log lines. */
export function trialLog(trial: TrialInfo, events: readonly PrintableEvent[], runLog: readonly string[] = []): string[] {
  const out = [`trial ${trial.taskId}`, `  ${trial.label}`, '', 'events:'];
  const mine = events.filter((e) => e.taskId === trial.taskId);
  if (mine.length === 0) out.push('  (none yet: the trial has not been leased)');
  for (const e of mine) out.push(`  ${formatEvent(e, { label: '' }).replace(/ {2}(?= )/, '')}`, ...detail(e));
  const short = trial.taskId.slice(0, LOG_ID_CHARS);
  const lines = runLog.filter((l) => l.includes(short));
  if (lines.length > 0) out.push('', 'worker and coordinator lines (logs/run.log):', ...lines.map((l) => `  ${sanitizeForTerminal(l)}`));
  return out;
}
