/**
 * The in-memory form of a dataset that the training loop consumes: plain typed arrays, no
 * tensors, so the trainer decides how to batch and which backend holds them.
 */
import type { DatasetName } from '../types.js';

/** Images as decoded from disk, before subsetting and scaling: NHWC bytes. */
export interface RawSplit {
  /** n * height * width * channels bytes, NHWC order (example-major, channel fastest). */
  pixels: Uint8Array;
  /** Class index of each example, in file order. */
  labels: Uint8Array;
  n: number;
  /** [height, width, channels]. */
  shape: [number, number, number];
}

/** One split (train or test) ready for training. */
export interface Split {
  /**
   * Images, n * prod(inputShape) float32 values, NHWC, pixels / 255 (docs/protocol.md: no mean/std
   * normalisation). For an FC network the same buffer is the flattened [n, H*W*C] matrix
   * (Keras' Flatten of an NHWC image is this row order), see `flatInputSize`.
   */
  x: Float32Array;
  /** Class index of each example, 0..classNames.length-1. */
  labels: Int32Array;
  /** Regression targets for squared loss: binary-mnist only, -1 (digit 4) / +1 (digit 7). */
  targets?: Float32Array;
  /** Number of examples. */
  n: number;
}

export interface Dataset {
  name: DatasetName;
  /** One example's shape, NHWC without the batch axis: [28, 28, 1] (MNIST) or [32, 32, 3] (CIFAR). */
  inputShape: [number, number, number];
  /**
   * Output units the network needs: 10 (MNIST, Fashion-MNIST, CIFAR-10), 100 (CIFAR-100), or
   * 1 for binary-mnist (a single linear output trained with squared loss on `targets`).
   */
  numClasses: number;
  /** Name of each label value (binary-mnist: ['4', '7'] for labels 0 and 1). */
  classNames: string[];
  train: Split;
  test: Split;
}

/** Length of one example as a flat vector (784 for MNIST, 3072 for CIFAR). */
export function flatInputSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Example `i` of a split as a flat Float32Array view into `split.x` (no copy). */
export function exampleView(split: Split, shape: readonly number[], i: number): Float32Array {
  const size = flatInputSize(shape);
  return split.x.subarray(i * size, (i + 1) * size);
}
