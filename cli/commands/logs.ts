/**
 * `npf logs <trial>`: what is kept about one trial (cli/trial-log.ts): its events with whole
 * failure messages (ending with the trial's last stderr lines) and, in a local run directory,
 * its workers' lines.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../../common/errors.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep } from '../sweep-access.js';
import type { TrialInfo } from '../trial-board.js';
import { findTrial, trialLog } from '../trial-log.js';

const USAGE = `usage: npf logs <trial> [--sweep S] [options]

<trial> is a trial's id, a unique prefix of it (6+ characters), or its label as npf status and
npf watch print it ('dnpfl fc adam 0.0003 seed 2', quoted). Prints the trial's events (leases,
epochs, retries and failures with their whole message and the trial's last stderr lines, its
result) and, for a local run directory, the lines its workers wrote (logs/run.log).

  --sweep S                 look in this sweep only (id, name or id prefix; default: every sweep)
${SOURCE_USAGE}`;

const SPEC = defineCommand({
  command: 'logs',
  usage: USAGE,
  flags: { ...SOURCE_FLAGS, sweep: { kind: 'string' } },
  positionals: { min: 1, max: 1, what: 'trial (id, id prefix or label)' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const ref = positionals[0];
  const access = openSweepAccess(values);
  try {
    const sweeps = values.sweep ? [await resolveSweep(access, values.sweep)] : await access.list();
    const hits: { sweepId: string; trial: TrialInfo }[] = [];
    for (const s of sweeps) {
      const r = findTrial(await access.trials(s.sweepId), ref);
      if ('found' in r) hits.push({ sweepId: s.sweepId, trial: r.found });
      else if ('ambiguous' in r) throw new InvalidInputError(`trial '${ref}' is ambiguous in sweep ${s.name}: ${r.ambiguous.slice(0, 5).map((t) => `${t.taskId.slice(0, 12)} (${t.label})`).join(', ')}`, { trial: ref });
      // A trial in several sweeps is the same trial (its id is its config's hash): one is enough.
      if (hits.length > 0) break;
    }
    if (hits.length === 0) throw new InvalidInputError(`no trial '${ref}' in ${values.sweep ? `sweep ${values.sweep}` : access.where} (npf status <sweep> lists its trials)`, { trial: ref });
    const { sweepId, trial } = hits[0];
    const runLog = !values.coordinator && !process.env.NPF_COORDINATOR ? readRunLog(resolve(values['data-dir'] ?? '.npf')) : [];
    console.log(trialLog(trial, await access.events(sweepId), runLog).join('\n'));
    return 0;
  } finally {
    access.close();
  }
}

function readRunLog(dataDir: string): string[] {
  const file = join(dataDir, 'logs', 'run.log');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
}
