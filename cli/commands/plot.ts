/**
 * `npf plot <sweep-dir>`: draw a sweep's figures (Table 2 bars, stages, nu_t, NTK split,
 * per-trial curves; whichever have data) as SVG and PNG into <sweep-dir>/figures/.
 *
 * Reads <sweep-dir>/figures-input.json when present (format: figures/figures-input.ts), else
 * <sweep-dir>/results.json written by `npf run`. Exit codes: 0 ok, 2 bad input.
 */
import { join } from 'node:path';
import { buildFigures } from '../../figures/build-figures.js';
import { loadSweepFigureData } from '../../figures/load-figures-input.js';
import { defaultPaperDir, loadPaperReference } from '../../coordinator/results/load-paper-reference.js';
import { renderFigure } from '../../figures/render-figure.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';

export const USAGE = `usage: npf plot <sweep-dir> [options]

  Writes <name>.svg and <name>.png for each figure with data into <sweep-dir>/figures/:
  table2, stages[-<group>], nu[-<group>], ntk-split[-<group>], trial-curves.

  --input FILE      figure data (default: <sweep-dir>/figures-input.json, else <sweep-dir>/results.json)
  --out DIR         output directory (default: <sweep-dir>/figures)
  --paper-dir DIR   the paper's reference CSVs (default: data/paper of this checkout)
  --no-paper        do not draw the paper's values
  --title TEXT      title suffix (default: the sweep directory's name)
  --scale N         PNG pixels per SVG unit (default 2)
  --help`;

const SPEC = defineCommand({
  command: 'plot',
  usage: USAGE,
  flags: {
    input: { kind: 'string' },
    out: { kind: 'string' },
    'paper-dir': { kind: 'string' },
    'no-paper': { kind: 'boolean' },
    title: { kind: 'string' },
    scale: { kind: 'number', above: 0, max: 10 },
  },
  positionals: { min: 1, max: 1, what: 'sweep directory' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const sweepDir = positionals[0];
  const scale = values.scale ?? 2;

  const { file, data } = loadSweepFigureData(sweepDir, values.input);
  const input = values.title ? { ...data, title: values.title } : data;
  const paperDir = values['paper-dir'] ?? defaultPaperDir();
  const paper = values['no-paper'] || !paperDir ? undefined : await loadPaperReference(paperDir);
  const figures = buildFigures(input, paper, file);
  const outDir = values.out ?? join(sweepDir, 'figures');
  for (const f of figures) {
    const r = await renderFigure(f, outDir, { scale });
    console.log(`${r.svgPath}\n${r.pngPath} (${r.width}x${r.height})`);
  }
  process.stderr.write(`npf plot: ${figures.length} figure${figures.length === 1 ? '' : 's'} from ${file} in ${outDir}\n`);
  return 0;
}
