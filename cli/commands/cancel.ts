/**
 * `npf cancel <sweep> [--trial ID ...]`: cancel a sweep's unfinished trials, or only the trials
 * named. Finished results are kept; running trials are stopped by their workers at the next
 * heartbeat; `npf run` of the same spec later runs the cancelled trials again.
 */
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep } from '../sweep-access.js';

const USAGE = `usage: npf cancel <sweep> [--trial ID ...] [options]

<sweep> is a sweep's id, name, or a unique prefix of its id (npf ls lists them).

  --trial ID                cancel only this trial (task id, or at least its first 6
                            characters; repeatable), not the whole sweep
${SOURCE_USAGE}

A local directory with a live npf run is cancelled through that run, whose workers stop the
trials at once.`;

const SPEC = defineCommand({
  command: 'cancel',
  usage: USAGE,
  flags: { ...SOURCE_FLAGS, trial: { kind: 'list' } },
  positionals: { min: 1, max: 1, what: 'sweep (id or name)' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const access = openSweepAccess(values);
  try {
    const sweep = await resolveSweep(access, positionals[0]);
    const trials = values.trial ?? [];
    const ids = await access.cancel(sweep.sweepId, trials);
    const after = await access.get(sweep.sweepId);
    const what = trials.length > 0 ? `${ids.length} of the ${trials.length} trial(s) named` : `${ids.length} unfinished trial(s)`;
    console.log(`cancelled ${what} of sweep ${sweep.name} (${sweep.sweepId}); it is now ${after.state}`);
    for (const id of ids) console.log(`  ${id.slice(0, 12)}  cancelled`);
    if (trials.length > 0 && ids.length < trials.length) console.log('  (a trial already finished or cancelled is left as it is)');
    return 0;
  } finally {
    access.close();
  }
}
