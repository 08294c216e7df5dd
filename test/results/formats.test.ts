import { describe, expect, it } from 'vitest';
import { aggregate } from '../../coordinator/results/aggregate-table.js';
import { aggregateStages } from '../../coordinator/results/aggregate-stages.js';
import { formatTableMarkdown } from '../../coordinator/results/format-table-markdown.js';
import { formatTableCsv } from '../../coordinator/results/format-table-csv.js';
import { formatTableLatex } from '../../coordinator/results/format-table-latex.js';
import { formatJson } from '../../coordinator/results/format-json.js';
import { formatStagesCsv, formatStagesMarkdown } from '../../coordinator/results/format-stages.js';
import { loadPaperReference } from '../../coordinator/results/load-paper-reference.js';
import type { TrialOutcome } from '../../coordinator/sweep-types.js';
import { outcome } from './fixtures.js';

/**
 * Fixture: FC/SGD/MNIST with two step sizes and 3 seeds (seed 2 of FLNPF still pending at the
 * chosen lr), GCONV/Adam/CIFAR-10 ReLU and FLNPF (one FLNPF seed diverged).
 */
function fixture(): TrialOutcome[] {
  const os: TrialOutcome[] = [];
  const base: Record<string, number> = { 'frnpf-ii': 0.958, 'frnpf-di': 0.9585, dnpfl: 0.9786, flnpf: 0.971, relu: 0.9785 };
  for (const [regime, acc] of Object.entries(base)) {
    for (const seed of [0, 1, 2]) {
      for (const lr of [0.1, 0.01]) {
        const a = acc + (lr === 0.01 ? 0.001 : 0) + (seed - 1) * 0.001;
        if (regime === 'flnpf' && lr === 0.01 && seed === 2) os.push(outcome({ regime, lr, seed }, 'pending'));
        else os.push(outcome({ regime, lr, seed }, 'succeeded', a));
      }
    }
  }
  const g = { dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4 };
  os.push(outcome({ ...g, regime: 'relu', seed: 0 }, 'succeeded', 0.8032));
  os.push(outcome({ ...g, regime: 'relu', seed: 1 }, 'succeeded', 0.8045));
  os.push(outcome({ ...g, regime: 'flnpf', seed: 0 }, 'succeeded', 0.7915));
  os.push(outcome({ ...g, regime: 'flnpf', seed: 1 }, 'diverged', 0.1));
  return os;
}

describe('results - golden outputs', async () => {
  const paper = await loadPaperReference();
  const table = aggregate(fixture(), { paper: paper.table2, expectedSeeds: [0, 1, 2] });

  it('Markdown', async () => {
    await expect(formatTableMarkdown(table)).toMatchFileSnapshot('./golden/table2.md');
  });
  it('CSV', async () => {
    await expect(formatTableCsv(table)).toMatchFileSnapshot('./golden/table2.csv');
  });
  it('LaTeX', async () => {
    await expect(formatTableLatex(table)).toMatchFileSnapshot('./golden/table2.tex');
  });
  it('JSON', async () => {
    await expect(formatJson(table)).toMatchFileSnapshot('./golden/table2.json');
  });

  it('the Markdown cells read like Table 2', () => {
    const md = formatTableMarkdown(table);
    // FC/SGD/MNIST ReLU at lr 0.01: 97.85+0.1 +- 0.08165 over 3 seeds.
    expect(md).toContain('| 97.95 ± 0.08 (n=3; lr 0.01) |');
    expect(md).toContain('97.85 ± 0.09 (Δ +0.10)');
    // FLNPF: lr 0.01 has 2 of 3 seeds (mean 97.15) and still beats lr 0.1 (97.10).
    expect(md).toContain('97.15 ± 0.05 (n=2/3; missing seed 2; 1 pending; lr 0.01)');
    expect(md).toContain('| 79.15 (n=1/3; missing seeds 1, 2; 1 diverged) |');
  });

  it('stages Markdown and CSV', async () => {
    const g = { dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4 };
    const os = [
      outcome({ ...g, regime: 'relu', seed: 0 }, 'succeeded', 0.8),
      ...[0, 1, 6].flatMap((stage) => [0, 1].map((seed) => outcome({ ...g, regime: 'stage', stage, seed }, 'succeeded', 0.67 + stage * 0.02 + seed * 0.002))),
    ];
    const st = aggregateStages(os, { paper });
    await expect(formatStagesMarkdown(st)).toMatchFileSnapshot('./golden/stages.md');
    await expect(formatStagesCsv(st)).toMatchFileSnapshot('./golden/stages.csv');
  });
});
