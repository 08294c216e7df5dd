/** `npf status [sweep]`: sweeps and their progress (all sweeps, or one in detail). */
import type { SweepInfo } from '../../gen/npf/v1/sweep.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connect } from '../connection.js';

const USAGE = `usage: npf status [sweep-id] [--json] [options]

  --json                    print the SweepInfo objects as JSON
${CONNECTION_USAGE}`;

const SPEC = defineCommand({
  command: 'status',
  usage: USAGE,
  flags: { ...CONNECTION_FLAGS, json: { kind: 'boolean' } },
  positionals: { min: 0, max: 1, what: 'sweep id' },
});

function line(s: SweepInfo): string {
  const c = s.counts ?? { blocked: 0, pending: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const total = c.blocked + c.pending + c.leased + c.running + c.succeeded + c.failed + c.cancelled;
  const when = new Date(s.createdAtMs).toISOString().replace('T', ' ').slice(0, 19);
  return [
    s.sweepId.padEnd(16),
    s.name.padEnd(24),
    s.state.padEnd(9),
    `${c.succeeded}/${total} done`.padEnd(14),
    `running ${c.leased + c.running}, pending ${c.pending}, blocked ${c.blocked}, failed ${c.failed}, cancelled ${c.cancelled}`,
    ` cells ${s.cellsComplete}/${s.cellsTotal}`,
    ` ${when}`,
  ].join(' ');
}

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const client = connect(values);
  try {
    const sweeps = positionals.length ? [await client.get(positionals[0])] : await client.list();
    if (values.json) console.log(JSON.stringify(sweeps, null, 2));
    else if (sweeps.length === 0) console.log('no sweeps');
    else for (const s of sweeps) console.log(line(s));
    return 0;
  } finally {
    client.close();
  }
}
