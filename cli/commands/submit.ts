/** `npf submit <spec.yaml>`: validate a sweep spec locally, then submit it to a coordinator. */
import { readFile } from 'node:fs/promises';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connect, connectionHint } from '../connection.js';
import { expandSweep } from '../../coordinator/sweep-spec/expand-sweep.js';
import { loadSweepFile } from '../../coordinator/sweep-spec/load-sweep-file.js';
import { expandSpecVariables } from '../../coordinator/sweep-spec/parse-sweep.js';

const USAGE = `usage: npf submit <spec.yaml> [--set path=value ...] [options]

  --set PATH=VALUE          override a spec field (repeatable), e.g. --set axes.datasets[0].dir=/data/cifar
${CONNECTION_USAGE}`;

const SPEC = defineCommand({
  command: 'submit',
  usage: USAGE,
  flags: { ...CONNECTION_FLAGS, set: { kind: 'list' } },
  positionals: { min: 1, max: 1, what: 'sweep spec file' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const file = positionals[0];
  const overrides = values.set ?? [];
  // Validate here first: a bad spec is reported with file:line before any network call.
  const spec = await loadSweepFile(file, { env: process.env, set: overrides });
  const tasks = expandSweep(spec);
  // Variables are expanded here, with this shell's environment; the coordinator never expands.
  const specYaml = expandSpecVariables(await readFile(file, 'utf8'), process.env, file);
  const client = connect(values);
  try {
    const r = await client.submit({ specYaml, fileName: file, overrides });
    console.log(`submitted ${r.sweepId} (${spec.name}): ${r.totalTasks} trials, ${r.alreadyDone} already done, ${r.totalTasks - r.alreadyDone} to run`);
    if (tasks.length !== r.totalTasks) console.error(`npf submit: note: the coordinator expanded ${r.totalTasks} trials, this client ${tasks.length}`);
    const again = connectionHint(values, process.env);
    console.log(`follow it: npf watch ${r.sweepId}${again}`);
    console.log(`trials:    npf status ${r.sweepId}${again}`);
    console.log(`table:     npf results ${r.sweepId}${again}`);
    return 0;
  } finally {
    client.close();
  }
}
