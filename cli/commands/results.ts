/** `npf results <sweep>`: the sweep's mean +- std table from the coordinator. */
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connect } from '../connection.js';
import { parseResultFormat } from '../../coordinator/render-results.js';

const USAGE = `usage: npf results <sweep-id> [--format md|csv|json|latex] [options]

  --format F                md (default), csv, json or latex
${CONNECTION_USAGE}`;

const SPEC = defineCommand({
  command: 'results',
  usage: USAGE,
  flags: { ...CONNECTION_FLAGS, format: { kind: 'string' } },
  positionals: { min: 1, max: 1, what: 'sweep id' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
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
