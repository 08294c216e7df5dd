/**
 * `npf plot <sweep-dir | sweep>`: draw a sweep's figures (Table 2 bars, stages, nu_t, NTK split,
 * per-trial curves; whichever have data) as SVG and PNG.
 *
 * From a folder (<data-dir>/sweeps/<id>/, or one `npf results --out` wrote): reads its
 * figures-input.json when present (format: figures/figures-input.ts), else its results.json, and
 * draws into <folder>/figures/. From a sweep (id, name or id prefix) of a local run directory
 * (--data-dir, default .npf) or a coordinator: its results, drawn into
 * <data-dir>/sweeps/<id>/figures (local) or ./<id>/figures (coordinator).
 * Exit codes: 0 ok, 2 bad input.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildFigures } from '../../figures/build-figures.js';
import { loadSweepFigureData } from '../../figures/load-figures-input.js';
import { defaultPaperDir, loadPaperReference } from '../../coordinator/results/load-paper-reference.js';
import { renderFigure } from '../../figures/render-figure.js';
import { parseFigureSource } from '../../figures/load-figures-input.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep } from '../sweep-access.js';

export const USAGE = `usage: npf plot <sweep-dir | sweep> [options]

  Writes <name>.svg and <name>.png for each figure with data: table2, stages[-<group>],
  nu[-<group>], ntk-split[-<group>], trial-curves. <sweep-dir> is a sweep's folder
  (<data-dir>/sweeps/<id>, or one npf results --out wrote); <sweep> a sweep's id, name or id
  prefix in a local run directory (--data-dir, default .npf) or on a coordinator.

  --input FILE      figure data (default: <sweep-dir>/figures-input.json, else <sweep-dir>/results.json)
  --out DIR         output directory (default: <sweep-dir>/figures; for a sweep of a directory
                    <data-dir>/sweeps/<id>/figures, of a coordinator ./<id>/figures)
  --paper-dir DIR   the paper's reference CSVs (default: data/paper of this checkout)
  --no-paper        do not draw the paper's values
  --title TEXT      title suffix (default: the sweep directory's name)
  --scale N         PNG pixels per SVG unit (default 2)
${SOURCE_USAGE}
  --help`;

const SPEC = defineCommand({
  command: 'plot',
  usage: USAGE,
  flags: {
    ...SOURCE_FLAGS,
    input: { kind: 'string' },
    out: { kind: 'string' },
    'paper-dir': { kind: 'string' },
    'no-paper': { kind: 'boolean' },
    title: { kind: 'string' },
    scale: { kind: 'number', above: 0, max: 10 },
  },
  positionals: { min: 1, max: 1, what: 'sweep directory or sweep' },
});

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** A sweep named by id or name: its results.json, from a local run directory or a coordinator. */
async function sweepFigureData(ref: string, values: Parameters<typeof openSweepAccess>[0], title?: string) {
  const access = openSweepAccess(values);
  try {
    const sweep = await resolveSweep(access, ref);
    const { table } = await access.results(sweep.sweepId, 'json');
    const file = `results of ${sweep.sweepId} (${access.where})`;
    const local = !values.coordinator && (values['data-dir'] || !process.env.NPF_COORDINATOR);
    const folder = local ? join(resolve(values['data-dir'] ?? '.npf'), 'sweeps', sweep.sweepId) : sweep.sweepId;
    return { file, data: parseFigureSource(table, file, title ?? sweep.name), outDir: join(folder, 'figures') };
  } finally {
    access.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const target = positionals[0];
  const scale = values.scale ?? 2;

  // A folder (or --input) is read as files; anything else names a sweep.
  const fromFolder = isDir(target) || values.input !== undefined || /[\\/]/.test(target);
  const { file, data, outDir: defaultOut } = fromFolder
    ? { ...loadSweepFigureData(target, values.input), outDir: join(target, 'figures') }
    : await sweepFigureData(target, values, values.title);
  const input = values.title ? { ...data, title: values.title } : data;
  const paperDir = values['paper-dir'] ?? defaultPaperDir();
  const paper = values['no-paper'] || !paperDir ? undefined : await loadPaperReference(paperDir);
  const figures = buildFigures(input, paper, file);
  const outDir = values.out ?? defaultOut;
  for (const f of figures) {
    const r = await renderFigure(f, outDir, { scale });
    console.log(`${r.svgPath}\n${r.pngPath} (${r.width}x${r.height})`);
  }
  process.stderr.write(`npf plot: ${figures.length} figure${figures.length === 1 ? '' : 's'} from ${file} in ${outDir}\n`);
  return 0;
}
