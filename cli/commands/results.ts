/** `npf results <sweep>`: the sweep's mean +- std table from the coordinator. */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../common/errors.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connect } from '../connection.js';
import { parseResultFormat } from '../../coordinator/render-results.js';

const USAGE = `usage: npf results <sweep-id> [--format md|csv|json|latex] [options]

  --format F                md (default), csv, json or latex
${CONNECTION_USAGE}`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...CONNECTION_OPTIONS, format: { type: 'string' } } });
  } catch (err) {
    throw new InvalidInputError(`results: ${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new InvalidInputError(`results: give exactly one sweep id\n${USAGE}`);
  const format = parseResultFormat(values.format ?? 'md');
  const client = connect(values);
  try {
    const r = await client.results(positionals[0], format);
    process.stdout.write(r.table.endsWith('\n') ? r.table : `${r.table}\n`);
    if (!r.complete) console.error('npf results: the sweep has not finished: the table holds the trials finished so far');
    return 0;
  } finally {
    client.close();
  }
}
