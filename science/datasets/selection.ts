/**
 * A selection of examples from a decoded split: which examples (by index in file order) and
 * the label each carries. Subsets and the binary-MNIST relabelling are pure functions from
 * selection to selection; only `materialise` copies pixels, so a 200-example subset of MNIST
 * never scales all 60000 images.
 */
import type { RawSplit, Split } from './dataset.js';

export interface Selection {
  /** Indices into the raw split, ascending (file order). */
  indices: Int32Array;
  /** Label of each selected example (may differ from the raw label, e.g. binary-mnist). */
  labels: Uint8Array;
}

/** Every example of a raw split, with its own labels. */
export function selectAll(raw: RawSplit): Selection {
  const indices = new Int32Array(raw.n);
  for (let i = 0; i < raw.n; i++) indices[i] = i;
  return { indices, labels: raw.labels.slice() };
}

/** Keep the selected entries at positions `keep` (ascending positions into `sel`). */
export function pick(sel: Selection, keep: ArrayLike<number>): Selection {
  const indices = new Int32Array(keep.length);
  const labels = new Uint8Array(keep.length);
  for (let k = 0; k < keep.length; k++) {
    indices[k] = sel.indices[keep[k]];
    labels[k] = sel.labels[keep[k]];
  }
  return { indices, labels };
}

/** float32(v / 255) for every byte v, so each pixel is the correctly rounded quotient. */
const SCALED = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Copy the selected examples out as float32 NHWC, pixels / 255 (docs/protocol.md: the authors'
 * only preprocessing), with their labels.
 */
export function materialise(raw: RawSplit, sel: Selection): Split {
  const size = raw.shape[0] * raw.shape[1] * raw.shape[2];
  const n = sel.indices.length;
  const x = new Float32Array(n * size);
  const pixels = raw.pixels;
  for (let k = 0; k < n; k++) {
    const src = sel.indices[k] * size;
    const dst = k * size;
    for (let j = 0; j < size; j++) x[dst + j] = SCALED[pixels[src + j]];
  }
  return { x, labels: Int32Array.from(sel.labels), n };
}
