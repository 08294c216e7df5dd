/**
 * `npf results <sweep>`: the sweep's mean +- std table (or a tidy table), from a local run
 * directory (offline) or a coordinator; with --out DIR, every file `npf run` writes for a sweep
 * (tables, tidy CSVs, sweep.json, spec.resolved.yaml, figures), so `npf plot DIR` works after
 * `npf submit` too.
 */
import { resolve } from 'node:path';
import { parseResultFormat, RESULT_FORMAT_NAMES, RESULT_FORMATS } from '../../coordinator/render-results.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep } from '../sweep-access.js';
import { writeSweepOutputs } from '../sweep-outputs.js';

const USAGE = `usage: npf results <sweep> [--format F] [--out DIR] [options]

<sweep> is a sweep's id, name, or a unique prefix of its id.

  --format F                ${RESULT_FORMAT_NAMES}; default md. trials and
                            epochs are the tidy per-trial and per-epoch CSV tables
  --out DIR                 write every output file of the sweep into DIR instead (results.*,
                            stages.csv, trials.csv, epochs.csv, sweep.json, spec.resolved.yaml,
                            figures/): what npf run writes; then npf plot DIR redraws
${SOURCE_USAGE}`;

const SPEC = defineCommand({
  command: 'results',
  usage: USAGE,
  flags: { ...SOURCE_FLAGS, format: { kind: 'string', choices: RESULT_FORMATS }, out: { kind: 'string' } },
  positionals: { min: 1, max: 1, what: 'sweep (id or name)' },
  check: (v) => (v.format && v.out ? ['--format and --out: --out writes every format; give one of them'] : []),
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const format = parseResultFormat(values.format ?? 'md');
  const access = openSweepAccess(values);
  try {
    const sweep = await resolveSweep(access, positionals[0]);
    if (values.out) {
      const dir = resolve(values.out);
      const source = await access.source(sweep.sweepId);
      let complete = true;
      const c = sweep.counts;
      const written = await writeSweepOutputs(
        dir,
        { sweepId: sweep.sweepId, name: sweep.name, state: sweep.state, createdAtMs: sweep.createdAtMs, ...(c ? { counts: { ...c } } : {}), ...source },
        async (f) => {
          const r = await access.results(sweep.sweepId, f);
          complete &&= r.complete;
          return r.table;
        },
        c?.succeeded ?? 0,
      );
      console.log(`${written.files.length} file(s) of sweep ${sweep.name} (${sweep.sweepId}) in ${dir}: ${written.files.join(', ')}`);
      if ('error' in written.figures) console.error(`npf results: figures not drawn: ${written.figures.error}`);
      else if (written.figures.length > 0) console.log(`${written.figures.length} figure(s) in ${dir}/figures (redraw with: npf plot ${values.out})`);
      if (!complete) console.error('npf results: the sweep has not finished: the files hold the trials finished so far');
      return 0;
    }
    const r = await access.results(sweep.sweepId, format);
    process.stdout.write(r.table.endsWith('\n') ? r.table : `${r.table}\n`);
    if (!r.complete) console.error('npf results: the sweep has not finished: the table holds the trials finished so far');
    return 0;
  } finally {
    access.close();
  }
}
