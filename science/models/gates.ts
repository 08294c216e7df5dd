/**
 * Gating functions of the deep gated network (DGN), applied to a feature-network
 * pre-activation q (paper section 4: the gates of layer l are G_l = gate(q_l)).
 */
import * as tf from '@tensorflow/tfjs-core';
import { softGateOp } from './ops.js';

/** Hard gate 1[q > 0] as a float 0/1 mask. It carries no gradient (step's derivative is 0). */
export function hardGate(q: tf.Tensor): tf.Tensor {
  return tf.step(q, 0);
}

/**
 * Soft gate of DNPFL (section 5): G = (1 + eps) * sigmoid(beta * q), default beta = 4, eps = 0.1.
 * The lift eps keeps a gradient flowing through gates that are almost open.
 */
export function softGate(q: tf.Tensor, beta: number, eps: number): tf.Tensor {
  return softGateOp(q, beta, eps);
}
