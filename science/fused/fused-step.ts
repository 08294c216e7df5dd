/**
 * One optimisation step of every member of a stack: forward, each member's loss, gradients,
 * update. Nothing is read back from the device; the losses stay a tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from '../types.js';
import type { StackedModel } from './stacked-model.js';
import type { StackedOptimizer } from './stacked-optimizer.js';
import { stackedMeanSquaredError, stackedSoftmaxCrossEntropy } from './stacked-ops.js';

/** Each member's mean loss over its batch: a [K] vector. */
export function stackedLoss(loss: LossName, logits: tf.Tensor3D, target: tf.Tensor): tf.Tensor1D {
  return loss === 'squared' ? stackedMeanSquaredError(logits, target) : stackedSoftmaxCrossEntropy(logits, target);
}

/**
 * Run one step on x [K, B, inputs] and target [K, B, outputs] and return `acc + loss * B` per
 * member (a new [K] tensor; the caller disposes the old one). `gates`: the batch's frozen gates
 * when the caller has them (gate-cache.ts). The members' losses are
 * differentiated together with dy = 1 each, which is what each member's own step does.
 */
export function fusedTrainStep(model: StackedModel, optimizer: StackedOptimizer, loss: LossName, x: tf.Tensor, target: tf.Tensor, acc: tf.Tensor, gates?: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const forward = model.trainingForward(x, gates);
    const { value, grads } = tf.engine().gradients(() => stackedLoss(loss, forward(), target), model.trainable);
    optimizer.apply(model.trainable, grads);
    return tf.add(acc, tf.mul(value, x.shape[1] as number)) as tf.Tensor1D;
  });
}
