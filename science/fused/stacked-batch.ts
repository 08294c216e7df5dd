/**
 * The mini-batches of K members for one step, written into one buffer ([K, B, exampleSize]):
 * member k's rows are batch `b` of its own epoch order, exactly the rows makeBatch would give
 * its unfused trial.
 */
import type { BatchSource } from '../train/batches.js';

export interface StackedBatch {
  /** [K * size * exampleSize] floats, member-major. */
  x: Float32Array;
  /** [K * size] labels, member-major. */
  labels: Int32Array;
  targets?: Float32Array;
  /** Examples per member (the last batch of an epoch may be partial, the same for every member). */
  size: number;
}

/** Batch `b` of each member's epoch order `orders[k]`. */
export function makeStackedBatch(src: BatchSource, exampleSize: number, batchSize: number, b: number, orders: readonly Int32Array[]): StackedBatch {
  const start = b * batchSize;
  const size = Math.min(batchSize, src.n - start);
  const k = orders.length;
  const x = new Float32Array(k * size * exampleSize);
  const labels = new Int32Array(k * size);
  const targets = src.targets ? new Float32Array(k * size) : undefined;
  orders.forEach((order, m) => {
    for (let i = 0; i < size; i++) {
      const j = order[start + i];
      const row = m * size + i;
      x.set(src.x.subarray(j * exampleSize, (j + 1) * exampleSize), row * exampleSize);
      labels[row] = src.labels[j];
      if (targets) targets[row] = (src.targets as Float32Array)[j];
    }
  });
  return { x, labels, targets, size };
}
