/** `npf status [sweep]`: sweeps and their progress (all sweeps, or one in detail). */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../common/errors.js';
import type { SweepInfo } from '../../gen/npf/v1/sweep.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connect } from '../connection.js';

const USAGE = `usage: npf status [sweep-id] [--json] [options]

  --json                    print the SweepInfo objects as JSON
${CONNECTION_USAGE}`;

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
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...CONNECTION_OPTIONS, json: { type: 'boolean' } } });
  } catch (err) {
    throw new InvalidInputError(`status: ${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new InvalidInputError(`status: give at most one sweep id\n${USAGE}`);
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
