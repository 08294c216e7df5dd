/** The row order of the paper's Table 2, for the results' rows (pure). */
import { DATASETS } from '../../science/datasets/registry.js';
import { archOf, datasetOf, optimizerOf } from '../../science/labels.js';
import { ARCH_KINDS } from '../../science/models/architecture.js';
import { OPTIMIZERS } from '../../science/optimizers.js';

/** Position of `x` in `order` (names the registries do not know come last). */
function rank<T extends string>(order: readonly T[], x: T | undefined): number {
  const i = x === undefined ? -1 : order.indexOf(x);
  return i < 0 ? order.length : i;
}

/** Row order of Table 2: arch (FC, VCONV, GCONV), then optimiser (SGD, Adam), then dataset, then larger step size first. */
export function compareRows(
  a: { arch: string; optimizer: string; dataset: string; lr?: number },
  b: { arch: string; optimizer: string; dataset: string; lr?: number },
): number {
  return (
    rank(ARCH_KINDS, archOf(a.arch)) - rank(ARCH_KINDS, archOf(b.arch)) ||
    a.arch.localeCompare(b.arch) ||
    rank(OPTIMIZERS, optimizerOf(a.optimizer)) - rank(OPTIMIZERS, optimizerOf(b.optimizer)) ||
    a.optimizer.localeCompare(b.optimizer) ||
    rank(DATASETS, datasetOf(a.dataset)) - rank(DATASETS, datasetOf(b.dataset)) ||
    a.dataset.localeCompare(b.dataset) ||
    (b.lr ?? 0) - (a.lr ?? 0)
  );
}
