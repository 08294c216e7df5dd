/**
 * One optimisation step: forward, loss, gradients of the trainable variables, update.
 * Nothing is read back from the device here; the loss stays a tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from '../types.js';
import { lossValue } from './loss.js';
import type { Optimizer } from './optimizer.js';
import type { TrialModel } from './trial-model.js';

/**
 * Run one step on (x, target) and return `acc + batchLoss * batchSize` (a new scalar; the
 * caller disposes the old accumulator). Every intermediate tensor is freed before returning.
 */
export function trainStep(model: TrialModel, optimizer: Optimizer, loss: LossName, x: tf.Tensor, target: tf.Tensor2D, acc: tf.Scalar): tf.Scalar {
  return tf.tidy(() => {
    const forward = model.trainingForward(x);
    const { value, grads } = tf.variableGrads(() => lossValue(loss, forward(), target), model.trainable);
    optimizer.apply(grads);
    return tf.add(acc, tf.mul(value, x.shape[0])) as tf.Scalar;
  });
}
