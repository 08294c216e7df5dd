import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { buildFigures } from '../../figures/build-figures.js';
import { FigureDataError } from '../../figures/errors.js';
import { buildNtkSplitFigure } from '../../figures/ntk-split-figure.js';
import { buildNuFigure } from '../../figures/nu-figure.js';
import { loadPaperReference } from '../../coordinator/results/load-paper-reference.js';
import { renderFigure, renderSvg } from '../../figures/render-figure.js';
import { buildStagesFigure } from '../../figures/stages-figure.js';
import { buildTable2Figure } from '../../figures/table2-figure.js';
import { buildTrialCurvesFigure } from '../../figures/trial-curves-figure.js';
import { parseFigureSource } from '../../figures/load-figures-input.js';
import { figuresInputFromResults } from '../../figures/from-results-json.js';
import { run as plot } from '../../cli/commands/plot.js';
import { renderReport } from '../../coordinator/results/render-report.js';
import type { TrialOutcome } from '../../coordinator/sweep-types.js';
import { sampleFiguresInput } from './sample-input.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'npf-fig-'));
  dirs.push(d);
  return d;
}

const sample = sampleFiguresInput();
const paper = await loadPaperReference();

describe('figures - spec builders', () => {
  it('figures - every builder gives a vega-lite spec that compiles', () => {
    const figures = buildFigures(sample, paper);
    expect(figures.map((f) => f.name)).toEqual(['table2', 'stages', 'nu', 'ntk-split', 'trial-curves']);
    for (const f of figures) expect(compile(f.spec).spec.marks?.length ?? 0).toBeGreaterThan(0);
  });

  it('figures - Table 2 SVG has the regimes, groups, dots, whiskers and the paper ticks (no bars: the axis does not start at zero)', async () => {
    const f = buildFigures({ table2: sample.table2 }, paper)[0]!;
    const rows = (f.spec as { data: { values: Array<{ paper: number | null; regime: string }> } }).data.values;
    expect(rows.find((r) => r.regime === 'DNPFL')!.paper).toBe(97.86); // filled from data/paper/table2.csv
    const svg = await renderSvg(f.name, f.spec);
    for (const label of ['FRNPF (II)', 'FRNPF (DI)', 'DNPFL', 'FLNPF', 'ReLU', 'FC SGD (MNIST)', 'FC Adam (MNIST)', 'best test accuracy (%)']) expect(svg).toContain(label);
    expect(svg).not.toContain('mark-rect role-mark layer_0_marks'); // no bars
    expect(svg).toContain('mark-rule role-mark layer_0_marks'); // whiskers
    expect((svg.match(/aria-roledescription="rule mark"/g) ?? []).length).toBe(10);
    expect(svg).toContain('mark-symbol role-mark layer_1_marks'); // dots
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(10);
    expect(svg).toContain('mark-rect role-mark layer_3_marks'); // ticks
    expect(svg).not.toContain('aria-roledescription="text mark"'); // no n=1 label: every cell has 5 runs
  });

  it('figures - a Table 2 cell of a single run has no whisker and says n=1', async () => {
    const cells = sample.table2!.map((c, i) => (i === 0 ? { ...c, n: 1, std: 0 } : c));
    const svg = await renderSvg('t', buildFigures({ table2: cells }, paper)[0]!.spec);
    expect((svg.match(/aria-roledescription="rule mark"/g) ?? []).length).toBe(9);
    expect((svg.match(/aria-roledescription="text mark"/g) ?? []).length).toBe(1);
    expect(svg).toContain('>n=1</text>');
  });

  it('figures - per-trial curves of a 1-epoch sweep are drawn as dots', async () => {
    const trials = [1, 2, 3].map((seed) => ({ label: `relu fc sgd 0.01 seed ${seed}`, regime: 'relu', points: [{ epoch: 1, testAccuracy: 90 + seed }] }));
    const svg = await renderSvg('c', buildFigures({ trials }, paper)[0]!.spec);
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(3);
    expect(svg).toContain('a dot per epoch');
  });

  it('figures - the stages legend sits below the plot area, not over it', async () => {
    const f = buildFigures({ stages: sample.stages }, paper)[0]!;
    const svg = await renderSvg(f.name, f.spec);
    const y = Number(/<g class="mark-group role-legend"[^>]*><g transform="translate\([0-9.]+,([0-9.]+)\)/.exec(svg)![1]);
    expect(y).toBeGreaterThan((f.spec as { height: number }).height);
  });

  it('figures - stages SVG has both series and the labelled reference lines', async () => {
    const f = buildFigures({ stages: sample.stages }, paper)[0]!;
    const svg = await renderSvg(f.name, f.spec);
    for (const label of ['ReLU 80.32', 'CNTK 77.43', 'measured (mean +- std)', 'paper (Figure 2)', 'stage']) expect(svg).toContain(label);
    const noRefs = await renderSvg('s', buildStagesFigure(sample.stages![0]!.points, { references: [] }).spec);
    expect(noRefs).not.toContain('CNTK');
  });

  it('figures - nu, NTK split and trial curves carry their labels', async () => {
    const nu = await renderSvg('nu', buildNuFigure(sample.nu![0]!.points).spec);
    expect(nu).toContain('nu_t');
    expect(nu).toContain('mark-area');
    const ntk = await renderSvg('ntk', buildNtkSplitFigure(sample.ntkSplit![0]!.series).spec);
    for (const label of ['K_v (value net)', 'K_phi (feature net)', 'trace', 'Frobenius norm']) expect(ntk).toContain(label);
    const trials = await renderSvg('t', buildTrialCurvesFigure(sample.trials).spec);
    for (const label of ['ReLU', 'FRNPF (II)', 'DNPFL', 'test accuracy (%)']) expect(trials).toContain(label);
    expect((trials.match(/<path/g) ?? []).length).toBeGreaterThanOrEqual(9);
  });

  it('figures - nu: the subtitle and an "n/N" label say in how many runs nu was defined at each epoch', async () => {
    const all = buildNuFigure([{ epoch: 0, mean: 10, std: 1, n: 2 }, { epoch: 2, mean: 8, std: 1, n: 2 }]);
    expect(JSON.stringify(all.spec)).toContain('over 2 runs; nu defined in every run at every epoch');
    const partial = buildNuFigure(
      [
        { epoch: 0, mean: 10, std: 1, n: 3 },
        { epoch: 2, mean: 8, std: 0, n: 1, of: 3 },
      ],
      { undefinedEpochs: [4] },
    );
    const text = JSON.stringify(partial.spec);
    expect(text).toContain('over 3 runs; nu undefined in some runs at epochs 2 (1/3); in no run at epochs 4');
    const svg = await renderSvg('nu', partial.spec);
    expect(svg).toContain('1/3');
  });

  it('figures - results.json to nu input: undefined runs are counted, never averaged; epochs with none are listed', () => {
    const stat = (mean: number | null, n: number) => ({ mean, std: mean === null ? null : 0, n });
    const input = figuresInputFromResults({
      npkCurves: [
        {
          key: { dataset: 'binary-mnist', arch: 'fc', optimizer: 'rmsprop', lr: 1e-4, regime: 'relu' },
          points: [
            { epoch: 0, nu: stat(100, 2), measured: 2 },
            { epoch: 2, nu: stat(90, 1), measured: 2 },
            { epoch: 4, nu: stat(null, 0), measured: 2 },
          ],
        },
      ],
    });
    expect(input.nu![0].points).toEqual([
      { epoch: 0, mean: 100, std: 0, n: 2 },
      { epoch: 2, mean: 90, std: 0, n: 1, of: 2 },
    ]);
    expect(input.nu![0].undefinedEpochs).toEqual([4]);
  });

  it('figures - empty or broken data gives one clear error naming figure and field', () => {
    expect(() => buildTable2Figure([])).toThrow(FigureDataError);
    expect(() => buildTable2Figure([])).toThrow("figure 'table2': no data in 'table2' (nothing to plot)");
    expect(() => buildStagesFigure(undefined)).toThrow("figure 'stages': no data in 'stages.points'");
    expect(() => buildNuFigure([{ epoch: 0, mean: Number.NaN, std: 0 }])).toThrow("figure 'nu': 'nu[0].mean' must be a finite number, got null");
    expect(() => buildNtkSplitFigure([{ kernel: 'value', measure: 'trace', points: [{ epoch: 0, mean: 0, std: 0 }] }])).toThrow('cannot go on a log axis');
    expect(() => buildTrialCurvesFigure([{ label: 'a', regime: 'relu', points: [] }])).toThrow("figure 'trial-curves': no data in 'trials[0].points'");
    expect(() => buildFigures({ title: 'x' }, undefined, 'in.json')).toThrow('in.json: nothing to plot (none of table2, stages, nu, ntkSplit, trials has data)');
  });
});

describe('figures - rendering and npf plot', () => {
  it('figures - renderFigure writes an SVG and a PNG of sane size', async () => {
    const dir = tempDir();
    const r = await renderFigure(buildTable2Figure(sample.table2), join(dir, 'out'));
    const png = readFileSync(r.pngPath);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect([width, height]).toEqual([r.width, r.height]);
    expect(width).toBeGreaterThan(400);
    expect(width).toBeLessThan(5000);
    expect(height).toBeGreaterThan(300);
    expect(height).toBeLessThan(5000);
    expect(readFileSync(r.svgPath, 'utf8')).toMatch(/^<svg /);
  });

  it('figures - npf plot draws every figure of a figures-input.json', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'figures-input.json'), JSON.stringify({ v: 1, ...sample }));
    expect(await plot([dir, '--scale', '1'])).toBe(0);
    for (const name of ['table2', 'stages', 'nu', 'ntk-split', 'trial-curves']) {
      expect(readFileSync(join(dir, 'figures', `${name}.png`)).subarray(1, 4).toString()).toBe('PNG');
      expect(readFileSync(join(dir, 'figures', `${name}.svg`), 'utf8')).toContain('<svg');
    }
  });

  it('figures - npf plot reads the results.json that npf run writes (Table 2 + stages)', async () => {
    const outcomes: TrialOutcome[] = [];
    const ok = (key: TrialOutcome['key'], acc: number): TrialOutcome => ({
      taskId: `${key.regime}-${key.stage ?? ''}-${key.seed}`,
      key,
      status: 'succeeded',
      result: { status: 'succeeded', backend: 'cpu', bestTestAccuracy: acc, bestEpoch: 1, finalTestAccuracy: acc, epochs: [], checkpoints: [], wallMs: 1 },
    });
    const base = { dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4 };
    for (const seed of [0, 1]) {
      for (const [regime, acc] of [['relu', 0.8], ['frnpf-ii', 0.66], ['dnpfl', 0.77]] as const) outcomes.push(ok({ ...base, regime, seed }, acc + seed / 100));
      for (let stage = 0; stage <= 3; stage++) outcomes.push(ok({ ...base, regime: 'stage', stage, seed }, 0.67 + stage * 0.03 + seed / 200));
    }
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const json = renderReport(outcomes, 'json', { paper });
    writeFileSync(join(dir, 'results.json'), json);
    const input = parseFigureSource(json, 'results.json');
    expect(input.table2!.map((c) => c.regime).sort()).toEqual(['dnpfl', 'frnpf-ii', 'relu']);
    expect(input.table2!.find((c) => c.regime === 'relu')!.mean).toBeCloseTo(80.5, 6);
    expect(input.stages![0]!.points.map((p) => p.stage)).toEqual([0, 1, 2, 3]);
    expect(input.stages![0]!.references!.map((r) => r.label)).toEqual(['ReLU 80.32', 'CNTK 77.43']);
    expect(await plot([dir, '--scale', '1'])).toBe(0);
    const svg = readFileSync(join(dir, 'figures', 'stages.svg'), 'utf8');
    expect(svg).toContain('CNTK 77.43');
    expect(readFileSync(join(dir, 'figures', 'table2.svg'), 'utf8')).toContain('GCONV Adam (CIFAR-10)');
    expect(svg).toContain('paper (Figure 2)');
  });

  it("figures - a stages sweep outside the paper's setting (FC MNIST) is drawn without Figure 2's values", async () => {
    const outcomes: TrialOutcome[] = [];
    const base = { dataset: 'mnist', arch: 'fc', optimizer: 'adam', lr: 1e-3 };
    for (const seed of [0, 1]) {
      for (let stage = 0; stage <= 2; stage++) {
        const acc = 0.8 + stage / 100;
        outcomes.push({
          taskId: `s${stage}-${seed}`,
          key: { ...base, regime: 'stage', stage, seed },
          status: 'succeeded',
          result: { status: 'succeeded', backend: 'cpu', bestTestAccuracy: acc, bestEpoch: 1, finalTestAccuracy: acc, epochs: [], checkpoints: [], wallMs: 1 },
        });
      }
    }
    const input = parseFigureSource(renderReport(outcomes, 'json', { paper }), 'results.json');
    expect(input.stages![0]!.paperSetting).toBe(false);
    const f = buildFigures(input, paper).find((x) => x.name.startsWith('stages'))!;
    const svg = await renderSvg(f.name, f.spec);
    expect(svg).toContain('measured (mean +- std)');
    expect(svg).not.toContain('paper (Figure 2)');
  });

  it('figures - npf plot on a directory without data, or with a bad file, gives one clear error', async () => {
    const dir = tempDir();
    await expect(plot([dir])).rejects.toThrow(`no results.json or figures-input.json in ${dir} (run 'npf run' first, or pass --input)`);
    writeFileSync(join(dir, 'figures-input.json'), JSON.stringify({ table2: [{ dataset: 'mnist', arch: 'fc', optimizer: 'sgd', regime: 'relu', mean: 'high', std: 0, n: 5 }] }));
    await expect(plot([dir])).rejects.toThrow(`${join(dir, 'figures-input.json')}: field 'table2[0].mean': Expected number, received string`);
    writeFileSync(join(dir, 'figures-input.json'), JSON.stringify({ nu: [{ points: [{ epoch: 0, mean: 1, std: 0, n: 3, of: 2 }] }] }));
    await expect(plot([dir])).rejects.toThrow(`field 'nu[0].points[0]': of (runs measured) needs n (runs in the mean) and n <= of`);
    writeFileSync(join(dir, 'figures-input.json'), '{}');
    await expect(plot([dir])).rejects.toThrow('nothing to plot');
    await expect(plot([])).rejects.toThrow('npf plot: expected one sweep directory or sweep, got 0');
  });
});
