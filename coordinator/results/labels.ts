/** Display names of the paper (Table 2 headers) for the machine names used in trial keys. */

/** Table 2's columns, in the paper's order. */
export const TABLE2_REGIMES = ['frnpf-ii', 'frnpf-di', 'dnpfl', 'flnpf', 'relu'] as const;

const REGIME_LABELS: Record<string, string> = {
  'frnpf-ii': 'FRNPF (II)',
  'frnpf-di': 'FRNPF (DI)',
  dnpfl: 'DNPFL',
  flnpf: 'FLNPF',
  relu: 'ReLU',
  stage: 'Stage',
};
/** The regime names used in data/paper/table2.csv. */
const REGIME_CSV: Record<string, string> = {
  'frnpf-ii': 'FRNPF-II',
  'frnpf-di': 'FRNPF-DI',
  dnpfl: 'DNPFL',
  flnpf: 'FLNPF',
  relu: 'ReLU',
};
const DATASET_LABELS: Record<string, string> = {
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100',
  'binary-mnist': 'Binary-MNIST',
};
const OPTIMIZER_LABELS: Record<string, string> = { sgd: 'SGD', adam: 'Adam', rmsprop: 'RMSprop' };
const ARCH_LABELS: Record<string, string> = { fc: 'FC', vconv: 'VCONV', gconv: 'GCONV' };

export const regimeLabel = (r: string): string => REGIME_LABELS[r] ?? r;
export const regimeCsvName = (r: string): string | undefined => REGIME_CSV[r];
export const datasetLabel = (d: string): string => DATASET_LABELS[d] ?? d;
export const optimizerLabel = (o: string): string => OPTIMIZER_LABELS[o] ?? o;
export const archLabel = (a: string): string => ARCH_LABELS[a] ?? a;

/** Row order of Table 2: arch (FC, VCONV, GCONV), then optimiser (SGD, Adam), then dataset. */
export function compareRows(
  a: { arch: string; optimizer: string; dataset: string; lr?: number },
  b: { arch: string; optimizer: string; dataset: string; lr?: number },
): number {
  const rank = (order: string[], x: string) => {
    const i = order.indexOf(x);
    return i < 0 ? order.length : i;
  };
  const archs = Object.keys(ARCH_LABELS);
  const opts = Object.keys(OPTIMIZER_LABELS);
  const sets = Object.keys(DATASET_LABELS);
  return (
    rank(archs, a.arch) - rank(archs, b.arch) ||
    a.arch.localeCompare(b.arch) ||
    rank(opts, a.optimizer) - rank(opts, b.optimizer) ||
    a.optimizer.localeCompare(b.optimizer) ||
    rank(sets, a.dataset) - rank(sets, b.dataset) ||
    a.dataset.localeCompare(b.dataset) ||
    (b.lr ?? 0) - (a.lr ?? 0)
  );
}
