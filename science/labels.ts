/**
 * The paper's spelling of every name that appears in trial keys, results tables and figures
 * ('frnpf-ii' -> 'FRNPF (II)', 'cifar10' -> 'CIFAR-10', 'gconv' -> 'GCONV', 'adam' -> 'Adam'),
 * derived from the registries. The one labels module of the results and the figures. Every
 * function accepts any spelling of a known name ('FRNPF (II)', 'FRNPF-II', 'frnpf_ii';
 * 'CIFAR-10', 'cifar10') and returns any other name unchanged (a sweep's own `label`).
 */
import { DATASETS, datasetDefinition, type DatasetName } from './datasets/registry.js';
import { ARCH_KINDS, archDisplayName, type ArchKind } from './models/architecture.js';
import { OPTIMIZERS, optimizerDisplayName, type OptimizerName } from './optimizers.js';
import { REGIMES, regimeDisplayName, regimePaperName, type Regime } from './regimes.js';

/** 'FRNPF (II)', 'frnpf_ii', 'CIFAR-10' -> 'frnpfii', 'cifar10': what two spellings of one name share. */
function spellingKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function finder<T extends string>(names: readonly T[]): (name: string) => T | undefined {
  const byKey = new Map(names.map((n) => [spellingKey(n), n]));
  return (name) => byKey.get(spellingKey(name));
}

/** The known name spelled `name` ('FRNPF (II)' -> 'frnpf-ii'), or undefined. */
export const regimeOf: (name: string) => Regime | undefined = finder(REGIMES);
export const datasetOf: (name: string) => DatasetName | undefined = finder(DATASETS);
export const archOf: (name: string) => ArchKind | undefined = finder(ARCH_KINDS);
export const optimizerOf: (name: string) => OptimizerName | undefined = finder(OPTIMIZERS);

/** 'frnpf-ii' -> 'FRNPF (II)'; 'stage' -> 'Stage'. */
export function regimeLabel(name: string): string {
  const r = regimeOf(name);
  return r ? regimeDisplayName(r) : name;
}

/** The regime's name in data/paper/table2.csv ('frnpf-ii' -> 'FRNPF-II'); undefined outside Table 2. */
export function regimePaperLabel(name: string): string | undefined {
  const r = regimeOf(name);
  return r ? regimePaperName(r) : undefined;
}

/** 'cifar10' -> 'CIFAR-10', 'binary-mnist' -> 'Binary-MNIST' (the paper's "Binary"-MNIST). */
export function datasetLabel(name: string): string {
  const d = datasetOf(name);
  return d ? datasetDefinition(d).label : name;
}

/** 'gconv' -> 'GCONV'. */
export function archLabel(name: string): string {
  const a = archOf(name);
  return a ? archDisplayName(a) : name;
}

/** 'sgd' -> 'SGD', 'adam' -> 'Adam'. */
export function optimizerLabel(name: string): string {
  const o = optimizerOf(name);
  return o ? optimizerDisplayName(o) : name;
}
