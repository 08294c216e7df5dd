/**
 * Parameters and forward passes of the paper's networks, as plain functions over tf.Variables.
 *
 * - ReLU network: h_l = relu(q_l), q_l = layer_l(h_{l-1}), h_0 = x; output = head(h_d).
 * - Deep gated network (section 4): a feature network (ReLU forward, fed x) produces gates
 *   G_l = gate(q^f_l); the value network, also fed x, is linear per layer and gated:
 *   h^v_l = layer^v_l(h^v_{l-1}) (Hadamard) G_l; output = head(h^v_d).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { InitName } from '../types.js';
import { glorotUniform, signSqrt2 } from './init.js';
import type { Rng } from './prng.js';
import { conv2dSame, dense, flatten, gateConst, gateMul, globalAveragePool, relu } from './ops.js';
import { hardGate, softGate } from './gates.js';
import { headInUnits, kernelShape, layerUnits, type HiddenLayerPlan, type NetworkPlan } from './architecture.js';

export interface LayerParams {
  kernel: tf.Variable;
  bias?: tf.Variable;
}

/** The hidden layers of one network (ReLU net, feature net or value net). */
export type LayerStack = LayerParams[];

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape[0] * shape[1];
  return [receptive * shape[2], receptive * shape[3]];
}

/** A variable holding `value`'s data; the temporary tensor handle is released. */
function ownedVariable(value: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(value, trainable);
  value.dispose();
  return v;
}

function initKernel(shape: number[], init: InitName, width: number, rng: Rng): Float32Array {
  if (init === 'sign-sqrt2') return signSqrt2(size(shape), width, rng);
  const [fanIn, fanOut] = fans(shape);
  return glorotUniform(size(shape), fanIn, fanOut, rng);
}

function makeLayer(shape: number[], units: number, bias: boolean, init: InitName, width: number, rng: Rng, trainable: boolean): LayerParams {
  const layer: LayerParams = { kernel: ownedVariable(tf.tensor(initKernel(shape, init, width, rng), shape), trainable) };
  if (bias) layer.bias = ownedVariable(tf.zeros([units]), trainable);
  return layer;
}

/** Width used by the sign-sqrt2 initialiser: the FC width (the notebook's "width"). */
function initWidth(plan: NetworkPlan): number {
  return plan.arch.kind === 'fc' ? plan.arch.width : 1;
}

/**
 * Fresh hidden layers (Keras defaults: Glorot-uniform kernels, zero biases) drawn from `rng`.
 * Variables are unnamed (tfjs gives them unique ids); checkpoints name tensors by position.
 */
export function createStack(plan: NetworkPlan, init: InitName, rng: Rng, trainable: boolean): LayerStack {
  return plan.hidden.map((layer) => makeLayer(kernelShape(layer), layerUnits(layer), plan.bias, init, initWidth(plan), rng, trainable));
}

/** The output layer Dense(outputs). */
export function createHead(plan: NetworkPlan, init: InitName, rng: Rng): LayerParams {
  const shape = [headInUnits(plan), plan.outputs];
  return makeLayer(shape, plan.outputs, plan.bias, init, initWidth(plan), rng, true);
}

/** Frozen (non-trainable) copy of a stack, e.g. FRNPF-DI's feature net = value net at t = 0. */
export function frozenCopy(stack: LayerStack): LayerStack {
  return stack.map((p) => ({
    kernel: ownedVariable(p.kernel.clone(), false),
    bias: p.bias ? ownedVariable(p.bias.clone(), false) : undefined,
  }));
}

/** Frozen stack holding copies of given tensors (FLNPF / stage gates from a checkpoint). */
export function frozenStackFrom(kernels: tf.Tensor[], biases: (tf.Tensor | undefined)[]): LayerStack {
  return kernels.map((k, l) => ({
    kernel: ownedVariable(k.clone(), false),
    bias: biases[l] ? ownedVariable((biases[l] as tf.Tensor).clone(), false) : undefined,
  }));
}

/** All variables of a stack, kernel then bias per layer. */
export function stackVariables(stack: LayerStack): tf.Variable[] {
  return stack.flatMap((p) => (p.bias ? [p.kernel, p.bias] : [p.kernel]));
}

export function disposeStack(stack: LayerStack | undefined): void {
  for (const p of stack ?? []) {
    p.kernel.dispose();
    p.bias?.dispose();
  }
}

/** Pre-activation q_l = layer_l(h) of one hidden layer. */
function preActivation(layer: HiddenLayerPlan, params: LayerParams, h: tf.Tensor, isInput: boolean): tf.Tensor {
  if (layer.kind === 'dense') return dense(h, params.kernel, params.bias, isInput);
  return conv2dSame(h, params.kernel, params.bias);
}

/** Flatten or GAP between the conv and the dense part, if `l` is where it sits. */
function transitionBefore(plan: NetworkPlan, l: number, h: tf.Tensor): tf.Tensor {
  if (!plan.transition || plan.transition.at !== l) return h;
  return plan.transition.kind === 'gap' ? globalAveragePool(h) : flatten(h);
}

/** Shape the data batch for the network: [B, 784] for FC, [B, H, W, C] for conv. */
export function inputBatchShape(plan: NetworkPlan, batch: number): number[] {
  return plan.flatInput ? [batch, size(plan.inputShape)] : [batch, ...plan.inputShape];
}

/** Output layer applied to the last hidden representation. */
export function headForward(plan: NetworkPlan, head: LayerParams, h: tf.Tensor): tf.Tensor2D {
  return dense(transitionBefore(plan, plan.hidden.length, h), head.kernel, head.bias);
}

/** ReLU network: logits of x. */
export function reluForward(plan: NetworkPlan, stack: LayerStack, head: LayerParams, x: tf.Tensor): tf.Tensor2D {
  let h = x;
  plan.hidden.forEach((layer, l) => {
    h = relu(preActivation(layer, stack[l], transitionBefore(plan, l, h), l === 0));
  });
  return headForward(plan, head, h);
}

/**
 * Hard gates 1[q^f_l > 0] of the feature network for each hidden layer. The feature network's
 * own forward is ReLU: h^f_l = relu(q^f_l). Compute these outside the gradient tape when the
 * feature network is frozen (FRNPF, FLNPF, stages): they are constants for the value net.
 */
export function hardGates(plan: NetworkPlan, feature: LayerStack, x: tf.Tensor): tf.Tensor[] {
  const gates: tf.Tensor[] = [];
  let h = x;
  plan.hidden.forEach((layer, l) => {
    const q = preActivation(layer, feature[l], transitionBefore(plan, l, h), l === 0);
    gates.push(hardGate(q));
    h = tf.relu(q); // no tape needed: hard gates have no gradient
  });
  return gates;
}

/** Soft gates (1+eps) sigmoid(beta q^f_l) of a (trainable) feature network: DNPFL. */
export function softGates(plan: NetworkPlan, feature: LayerStack, x: tf.Tensor, beta: number, eps: number): tf.Tensor[] {
  const gates: tf.Tensor[] = [];
  let h = x;
  plan.hidden.forEach((layer, l) => {
    const q = preActivation(layer, feature[l], transitionBefore(plan, l, h), l === 0);
    gates.push(softGate(q, beta, eps));
    h = relu(q);
  });
  return gates;
}

/**
 * Value network gated by `gates`: h^v_l = q^v_l (Hadamard) G_l; logits = head(h^v_d).
 * `trainableGates`: gradients flow into the gates (soft gates of a trainable feature net).
 */
export function gatedForward(plan: NetworkPlan, value: LayerStack, head: LayerParams, gates: tf.Tensor[], x: tf.Tensor, trainableGates = false): tf.Tensor2D {
  let h = x;
  plan.hidden.forEach((layer, l) => {
    const q = preActivation(layer, value[l], transitionBefore(plan, l, h), l === 0);
    h = trainableGates ? gateMul(q, gates[l]) : gateConst(q, gates[l]);
  });
  return headForward(plan, head, h);
}
