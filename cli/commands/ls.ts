/** `npf ls`: the sweeps of a local run directory (default .npf) or of a coordinator, newest first. */
import type { SweepInfo } from '../../gen/npf/v1/sweep.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess } from '../sweep-access.js';

const USAGE = `usage: npf ls [--json] [options]

Lists sweeps, newest first: name, id, state (running, complete, failed, cancelled), trials done
of all, trials by state, and when each was submitted (local time).

  --json                    print the sweeps as JSON
${SOURCE_USAGE}`;

const SPEC = defineCommand({
  command: 'ls',
  usage: USAGE,
  flags: { ...SOURCE_FLAGS, json: { kind: 'boolean' } },
});

function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The rows of `npf ls` (pure): a header, then one aligned line per sweep. */
export function formatSweepList(sweeps: readonly SweepInfo[]): string[] {
  const head = ['NAME', 'ID', 'STATE', 'DONE', 'RUNNING', 'PENDING', 'BLOCKED', 'FAILED', 'CANCELLED', 'SUBMITTED'];
  const rows = sweeps.map((s) => {
    const c = s.counts ?? { blocked: 0, pending: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    const total = c.blocked + c.pending + c.leased + c.running + c.succeeded + c.failed + c.cancelled;
    return [s.name, s.sweepId, s.state, `${c.succeeded}/${total}`, String(c.leased + c.running), String(c.pending), String(c.blocked), String(c.failed), String(c.cancelled), localTime(s.createdAtMs)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join('  '));
}

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const access = openSweepAccess(values);
  try {
    const sweeps = await access.list();
    if (values.json) console.log(JSON.stringify(sweeps, null, 2));
    else if (sweeps.length === 0) console.log(`no sweeps in ${access.where}`);
    else for (const line of formatSweepList(sweeps)) console.log(line);
    return 0;
  } finally {
    access.close();
  }
}
