/**
 * `npf status [sweep]`: sweeps and their progress (all sweeps, or one), from a local directory or
 * a coordinator. For one sweep, a table of its trials (label, state, attempt, worker, epoch k/of,
 * best accuracy, ETA) folded from its events (cli/trial-board.ts), with a warning when trials
 * wait and no worker takes them.
 */
import { formatDuration } from '../../events/format-event.js';
import type { SweepInfo } from '../../gen/npf/v1/sweep.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep, type SweepAccess } from '../sweep-access.js';
import { applyEvent, idleWarning, newBoard, renderTrialTable, sweepEtaMs, type TrialRow } from '../trial-board.js';

const USAGE = `usage: npf status [sweep] [--json] [options]

<sweep> is a sweep's id, name, or a unique prefix of its id. Without it: one line per sweep.
With it: the sweep's line, then one line per trial: its label, state, attempt, worker, epoch
k/of, best test accuracy so far and ETA, and the sweep's ETA.

  --json                    print the SweepInfo objects as JSON (with a sweep: {sweep, trials})
${SOURCE_USAGE}`;

const SPEC = defineCommand({
  command: 'status',
  usage: USAGE,
  flags: { ...SOURCE_FLAGS, json: { kind: 'boolean' } },
  positionals: { min: 0, max: 1, what: 'sweep (id or name)' },
});

/** ' (8 fused in 1 bundle)': the running tasks that train as members of stacked processes. */
function bundles(s: SweepInfo): string {
  if (!s.bundles) return '';
  return ` (${s.bundledTasks} fused in ${s.bundles} bundle${s.bundles === 1 ? '' : 's'})`;
}

function line(s: SweepInfo): string {
  const c = s.counts ?? { blocked: 0, pending: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const total = c.blocked + c.pending + c.leased + c.running + c.succeeded + c.failed + c.cancelled;
  const when = new Date(s.createdAtMs).toISOString().replace('T', ' ').slice(0, 19);
  return [
    s.sweepId.padEnd(16),
    s.name.padEnd(24),
    s.state.padEnd(9),
    `${c.succeeded}/${total} done`.padEnd(14),
    `running ${c.leased + c.running}${bundles(s)}, pending ${c.pending}, blocked ${c.blocked}, failed ${c.failed}, cancelled ${c.cancelled}`,
    ` cells ${s.cellsComplete}/${s.cellsTotal}`,
    ` ${when}`,
  ].join(' ');
}

/** The trials of one sweep, folded from its events. */
export async function trialRows(access: SweepAccess, sweepId: string): Promise<TrialRow[]> {
  const board = newBoard(await access.trials(sweepId));
  for (const e of await access.events(sweepId)) applyEvent(board, e);
  return [...board.values()];
}

/** The one-sweep view: its line, a warning when nothing runs its trials, the trials table, the ETA. Pure. */
export function sweepView(s: SweepInfo, rows: readonly TrialRow[], writer: 'none' | 'unknown', width?: number): string[] {
  const out = [line(s)];
  const warning = idleWarning(rows, s.state, writer);
  if (warning) out.push(`warning: ${warning}`);
  out.push('', ...renderTrialTable(rows, { width, runningFirst: true }));
  const eta = sweepEtaMs(rows);
  if (s.state === 'running') out.push('', eta !== undefined ? `ETA ${formatDuration(eta)} (mean trial time so far, over the trials running at once)` : 'ETA: known once a trial has finished');
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const access = openSweepAccess(values);
  try {
    if (positionals.length) {
      const sweep = await resolveSweep(access, positionals[0]);
      const rows = await trialRows(access, sweep.sweepId);
      if (values.json) console.log(JSON.stringify({ sweep, trials: rows }, null, 2));
      else console.log(sweepView(sweep, rows, access.writer(), process.stdout.isTTY ? process.stdout.columns : undefined).join('\n'));
      return 0;
    }
    const sweeps = await access.list();
    if (values.json) console.log(JSON.stringify(sweeps, null, 2));
    else if (sweeps.length === 0) console.log(`no sweeps in ${access.where}`);
    else for (const s of sweeps) console.log(line(s));
    return 0;
  } finally {
    access.close();
  }
}
