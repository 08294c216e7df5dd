/** `npf status [sweep]`: sweeps and their progress (all sweeps, or one), from a local directory or a coordinator. */
import type { SweepInfo } from '../../gen/npf/v1/sweep.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep } from '../sweep-access.js';

const USAGE = `usage: npf status [sweep] [--json] [options]

<sweep> is a sweep's id, name, or a unique prefix of its id.

  --json                    print the SweepInfo objects as JSON
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

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const access = openSweepAccess(values);
  try {
    const sweeps = positionals.length ? [await resolveSweep(access, positionals[0])] : await access.list();
    if (values.json) console.log(JSON.stringify(sweeps, null, 2));
    else if (sweeps.length === 0) console.log(`no sweeps in ${access.where}`);
    else for (const s of sweeps) console.log(line(s));
    return 0;
  } finally {
    access.close();
  }
}
