/**
 * Training losses: categorical cross-entropy on softmax (the paper's classification loss) and
 * squared loss (the nu_t experiment on binary MNIST: one linear output, targets -1/+1).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from '../types.js';
import { meanSquaredError, softmaxCrossEntropy } from '../models/ops.js';

/**
 * Training target of a batch: regression values [B, 1] when the network has one output
 * (binary-mnist's -1/+1 `targets`), else one-hot rows [B, outputs].
 */
export function makeTarget(labels: Int32Array, targets: Float32Array | undefined, outputs: number): tf.Tensor2D {
  if (outputs === 1) {
    if (!targets) throw new Error('a single-output network needs regression targets (binary-mnist)');
    return tf.tensor2d(targets, [targets.length, 1]);
  }
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), outputs), 'float32') as tf.Tensor2D);
}

/** Mean loss over the batch, a scalar. */
export function lossValue(loss: LossName, logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return loss === 'squared' ? meanSquaredError(logits, target) : softmaxCrossEntropy(logits, target);
}

/** Correct predictions in the batch: sign agreement for one output, argmax otherwise. */
export function correctCount(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const hit = logits.shape[1] === 1 ? tf.equal(tf.greater(logits, 0), tf.greater(target, 0)) : tf.equal(tf.argMax(logits, 1), tf.argMax(target, 1));
    return tf.sum(tf.cast(hit, 'float32')) as tf.Scalar;
  });
}
