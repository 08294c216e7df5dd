/**
 * Synthetic figure data shaped like a real sweep's (deterministic, no training): Table 2 cells
 * near the paper's numbers, stages, nu_t, NTK split, and per-trial curves.
 */
import type { FiguresInput } from '../../figures/figure-data.js';
import { mulberry32 } from '../../science/models/prng.js';

/** Seeded uniform numbers in [0, 1): the project's mulberry32 (science/models/prng.ts). */
function rng(seed: number): () => number {
  const r = mulberry32(seed);
  return () => r.next();
}

const PAPER: Array<[string, string, string, Record<string, number>]> = [
  ['mnist', 'fc', 'sgd', { 'frnpf-ii': 95.85, 'frnpf-di': 95.85, dnpfl: 97.86, flnpf: 97.1, relu: 97.85 }],
  ['mnist', 'fc', 'adam', { 'frnpf-ii': 96.02, 'frnpf-di': 96.09, dnpfl: 98.22, flnpf: 97.82, relu: 98.14 }],
];

export function sampleFiguresInput(seed = 1): FiguresInput {
  const r = rng(seed);
  const table2 = PAPER.flatMap(([dataset, arch, optimizer, regimes]) =>
    Object.entries(regimes).map(([regime, paper]) => ({ dataset, arch, optimizer, regime, mean: paper - 0.6 + r(), std: 0.05 + 0.3 * r(), n: 5 })),
  );
  const stagePaper = [67.09, 72.29, 74.42, 77.0, 78.3, 78.6, 79.43];
  const stages = [{ points: stagePaper.map((p, stage) => ({ stage, mean: p - 1 + 1.5 * r(), std: 0.2 + 0.5 * r(), n: 5 })) }];
  const nu = Array.from({ length: 26 }, (_, i) => {
    const epoch = 2 * i;
    const mean = 2000 * Math.exp(-epoch / 12) + 150;
    return { epoch, mean, std: mean * (0.05 + 0.05 * r()), n: 5 };
  });
  const curve = (scale: number, decay: number) =>
    Array.from({ length: 13 }, (_, i) => {
      const epoch = 5 * i;
      const mean = scale * (1 + decay * epoch);
      return { epoch, mean, std: mean * 0.1 * r() };
    });
  const ntkSplit = [
    { kernel: 'value' as const, measure: 'trace' as const, points: curve(900, 0.05) },
    { kernel: 'feature' as const, measure: 'trace' as const, points: curve(12, 0.2) },
    { kernel: 'value' as const, measure: 'frobenius' as const, points: curve(300, 0.04) },
    { kernel: 'feature' as const, measure: 'frobenius' as const, points: curve(4, 0.15) },
  ];
  const trials = ['relu', 'frnpf-ii', 'dnpfl'].flatMap((regime, k) =>
    [0, 1, 2].map((seedIdx) => ({
      label: `${regime} seed ${seedIdx}`,
      regime,
      points: Array.from({ length: 20 }, (_, i) => ({ epoch: i + 1, testAccuracy: 90 + k * 2 + 6 * (1 - Math.exp(-(i + 1) / 4)) - 2 * k + r() })),
    })),
  );
  return { title: 'sample', table2, stages, nu: [{ points: nu }], ntkSplit: [{ series: ntkSplit }], trials };
}
