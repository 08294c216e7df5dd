import { describe, expect, it } from 'vitest';
import { renderReport } from '../../coordinator/results/render-report.js';
import { parseStagesCsv, parseTable2Csv } from '../../coordinator/results/paper-reference.js';
import { outcome } from './fixtures.js';

const paper = {
  table2: parseTable2Csv('source,arch,optimizer,dataset,regime,mean,std\npaper,GCONV,Adam,CIFAR-10,ReLU,80.32,0.13\n'),
  stages: parseStagesCsv('stage,flnpf_mean,exact\n0,67.09,yes\n1,72.29,yes\n'),
};
const g = { dataset: 'cifar10', arch: 'gconv', optimizer: 'adam', lr: 3e-4 };
const os = [
  outcome({ ...g, regime: 'relu', seed: 0 }, 'succeeded', 0.8),
  outcome({ ...g, regime: 'stage', stage: 0, seed: 0 }, 'succeeded', 0.67),
  outcome({ ...g, regime: 'stage', stage: 1, seed: 0 }, 'succeeded', 0.72, {
    npk: [{ epoch: 0, nu: 5, conditionNumber: 2, method: 'cholesky' }],
  }),
];

describe('results - report rendering', () => {
  it('markdown has Table 2 and the stages table', () => {
    const md = renderReport(os, 'markdown', { paper });
    expect(md).toContain('| GCONV | Adam | CIFAR-10 |');
    expect(md).toContain('80.32 ± 0.13 (Δ -0.32)');
    expect(md).toContain('### Stages: GCONV / Adam 0.0003 / CIFAR-10');
    expect(md).toContain('| 1 | 72.00 (n=1) | 72.29 | -0.29 |');
  });

  it('each CSV is one table with one header: csv is Table 2, stages-csv the stages; latex has both tabulars', () => {
    const csv = renderReport(os, 'csv', { paper });
    expect(csv).not.toContain('\n\n');
    expect(csv.split('\n')[0]).toMatch(/^dataset,arch,optimizer,regime,lr,/);
    expect(csv.split('\n')[1]).toMatch(/^cifar10,gconv,adam,relu,0.0003,80,0,1,1,/);
    expect(csv.trim().split('\n')).toHaveLength(2);
    const st = renderReport(os, 'stages-csv', { paper });
    expect(st.split('\n')[0]).toMatch(/^dataset,arch,optimizer,lr,stage,/);
    expect(st.trim().split('\n')).toHaveLength(3);
    // A stages-only sweep has no Table 2 cell: its csv is the stages table.
    expect(renderReport(os.slice(1), 'csv').split('\n')[0]).toMatch(/^dataset,arch,optimizer,lr,stage,/);
    expect(renderReport(os, 'latex', { paper }).match(/\\begin\{tabular\}/g)).toHaveLength(2);
  });

  it('json carries table, stages and curves', () => {
    const j = JSON.parse(renderReport(os, 'json', { paper }));
    expect(Object.keys(j)).toEqual(['table2', 'stages', 'npkCurves', 'ntkSplitCurves', 'trialCurves']);
    // The fixtures have no epoch records; one that has them gets its curve, in percent.
    expect(j.trialCurves).toEqual([]);
    const withEpochs = outcome({ ...g, regime: 'stage', stage: 1, seed: 3 }, 'succeeded', 0.7, {
      epochs: [{ epoch: 1, trainLoss: 1, testLoss: 1, testAccuracy: 0.7, examplesPerSec: 1, durationMs: 1 }],
    });
    expect(JSON.parse(renderReport([withEpochs], 'json')).trialCurves).toEqual([
      { taskId: withEpochs.taskId, label: 'stage 1 gconv adam 0.0003 seed 3', regime: 'stage 1', points: [{ epoch: 1, testAccuracy: 70 }] },
    ]);
    expect(j.npkCurves[0].points[0].nu).toEqual({ mean: 5, std: 0, n: 1 });
    expect(j.stages.groups[0].stages).toHaveLength(2);
  });
});
