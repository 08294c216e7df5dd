import { describe, expect, it } from 'vitest';
import { archLabel, datasetLabel, optimizerLabel, regimeLabel, regimeOf, regimePaperLabel } from '../../science/labels.js';
import { DATASETS, datasetDefinition } from '../../science/datasets/registry.js';
import { REGIMES, TABLE2_REGIMES } from '../../science/regimes.js';
import { compareRows } from '../../coordinator/results/row-order.js';

describe('labels - one spelling for results and figures', () => {
  it('labels - machine names and the paper spellings map to the same label', () => {
    for (const s of ['frnpf-ii', 'FRNPF (II)', 'FRNPF-II', 'frnpf_ii']) expect(regimeLabel(s)).toBe('FRNPF (II)');
    expect(regimeOf('ReLU')).toBe('relu');
    expect(regimePaperLabel('FRNPF (DI)')).toBe('FRNPF-DI');
    expect(regimePaperLabel('stage')).toBeUndefined(); // not a Table 2 column
    for (const s of ['cifar10', 'CIFAR-10']) expect(datasetLabel(s)).toBe('CIFAR-10');
    expect(datasetLabel('binary-mnist')).toBe('Binary-MNIST');
    expect(datasetLabel('fashion-mnist')).toBe('Fashion-MNIST');
    expect([archLabel('gconv'), optimizerLabel('adam'), optimizerLabel('rmsprop'), optimizerLabel('SGD')]).toEqual(['GCONV', 'Adam', 'RMSprop', 'SGD']);
  });

  it("labels - a sweep's own labels and stage series are kept as given", () => {
    expect(datasetLabel('mnist-10k')).toBe('mnist-10k');
    expect(archLabel('fc-wide')).toBe('fc-wide');
    expect(regimeLabel('stage 3')).toBe('stage 3');
  });

  it("labels - every registered regime and dataset has a label; Table 2's columns in the paper's order", () => {
    for (const r of REGIMES) expect(regimeLabel(r)).not.toBe(r);
    for (const d of DATASETS) expect(datasetDefinition(d).label.length).toBeGreaterThan(0);
    expect(TABLE2_REGIMES).toEqual(['frnpf-ii', 'frnpf-di', 'dnpfl', 'flnpf', 'relu']);
  });

  it("labels - rows follow Table 2: FC before GCONV, SGD before Adam, MNIST before CIFAR-10, sweep labels last", () => {
    const rows = [
      { arch: 'gconv', optimizer: 'sgd', dataset: 'cifar10' },
      { arch: 'fc', optimizer: 'adam', dataset: 'mnist' },
      { arch: 'my-net', optimizer: 'sgd', dataset: 'mnist' },
      { arch: 'fc', optimizer: 'sgd', dataset: 'cifar10' },
      { arch: 'fc', optimizer: 'sgd', dataset: 'mnist' },
    ];
    expect([...rows].sort(compareRows).map((r) => `${r.arch} ${r.optimizer} ${r.dataset}`)).toEqual([
      'fc sgd mnist',
      'fc sgd cifar10',
      'fc adam mnist',
      'gconv sgd cifar10',
      'my-net sgd mnist',
    ]);
  });
});
