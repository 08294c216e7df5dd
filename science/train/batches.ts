/**
 * Mini-batches of a split in a seeded shuffled order, assembled on the JavaScript side (one
 * contiguous copy per batch), so the device only ever holds one batch of inputs.
 */

export interface BatchSource {
  /** Flat examples, `exampleSize` floats each. */
  x: Float32Array;
  labels: Int32Array;
  targets?: Float32Array;
  n: number;
}

export interface Batch {
  x: Float32Array;
  labels: Int32Array;
  targets?: Float32Array;
  size: number;
}

/** Number of batches of an epoch: the last one may be partial (as Keras does). */
export function batchCount(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** Batch `b` of the epoch order `order` (or of the file order when order is undefined). */
export function makeBatch(src: BatchSource, exampleSize: number, batchSize: number, b: number, order?: Int32Array): Batch {
  const start = b * batchSize;
  const size = Math.min(batchSize, src.n - start);
  const x = new Float32Array(size * exampleSize);
  const labels = new Int32Array(size);
  const targets = src.targets ? new Float32Array(size) : undefined;
  for (let i = 0; i < size; i++) {
    const j = order ? order[start + i] : start + i;
    x.set(src.x.subarray(j * exampleSize, (j + 1) * exampleSize), i * exampleSize);
    labels[i] = src.labels[j];
    if (targets) targets[i] = (src.targets as Float32Array)[j];
  }
  return { x, labels, targets, size };
}
