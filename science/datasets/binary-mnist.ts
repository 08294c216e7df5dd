/**
 * Binary MNIST of the NPK experiment (docs/protocol.md, "NPK experiment"): digits 4 and 7 only,
 * label -1 for 4 and +1 for 7, trained with squared loss on one linear output.
 */
import type { Split } from './dataset.js';
import { pick, type Selection } from './selection.js';

/** The MNIST digit of class 0 (target -1) and class 1 (target +1). */
export const BINARY_MNIST_DIGITS = [4, 7] as const;
export const BINARY_MNIST_CLASS_NAMES = ['4', '7'];

/** Keep the 4s and 7s (file order) and relabel them 0 (digit 4) and 1 (digit 7). */
export function selectBinaryDigits(sel: Selection): Selection {
  const [neg, pos] = BINARY_MNIST_DIGITS;
  const keep: number[] = [];
  for (let k = 0; k < sel.labels.length; k++) {
    if (sel.labels[k] === neg || sel.labels[k] === pos) keep.push(k);
  }
  const out = pick(sel, keep);
  for (let k = 0; k < out.labels.length; k++) out.labels[k] = out.labels[k] === pos ? 1 : 0;
  return out;
}

/** The squared-loss targets y in {-1, +1} of a binary split (label 0 -> -1, 1 -> +1). */
export function withBinaryTargets(split: Split): Split {
  const targets = new Float32Array(split.n);
  for (let i = 0; i < split.n; i++) targets[i] = split.labels[i] === 1 ? 1 : -1;
  return { ...split, targets };
}
