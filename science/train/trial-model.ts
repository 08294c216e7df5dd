/**
 * The network of one trial, built from its regime plan: a ReLU network, or a deep gated network
 * (feature network + value network + output layer).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GateSpec, InitName } from '../types.js';
import type { NetworkPlan } from '../models/architecture.js';
import {
  createHead,
  createStack,
  disposeStack,
  frozenCopy,
  gatedForward,
  hardGates,
  reluForward,
  softGates,
  stackVariables,
  type LayerParams,
  type LayerStack,
} from '../models/network.js';
import type { RegimePlan } from '../regimes.js';
import { trialRng } from './trial-streams.js';

export interface TrialModel {
  plan: NetworkPlan;
  regime: RegimePlan;
  /** The ReLU network's hidden layers (regime relu) or the value network's. */
  value: LayerStack;
  /** The feature (gating) network, absent for relu. */
  feature?: LayerStack;
  head: LayerParams;
  /** Variables the optimiser updates, in a fixed order. */
  trainable: tf.Variable[];
  /**
   * Prepare a training forward pass on batch x: gates of a frozen feature net are computed here,
   * outside the gradient tape; the returned function runs the taped part and gives the logits.
   * Call both inside one tf.tidy.
   */
  trainingForward(x: tf.Tensor): () => tf.Tensor2D;
  /** Logits of x (no tape needed). */
  logits(x: tf.Tensor): tf.Tensor2D;
  /**
   * 0/1 gate activity of each hidden layer on x: 1[q > 0] of the ReLU net, or of the feature
   * net's pre-activations for a DGN (for soft gates, where the gate exceeds its midpoint).
   * For the NPK measurements (Lambda = product over l of A_l A_l^T).
   */
  gateActivity(x: tf.Tensor): tf.Tensor[];
  dispose(): void;
}

export interface BuildModelOptions {
  plan: NetworkPlan;
  regime: RegimePlan;
  init: InitName;
  gate: GateSpec;
  seed: number;
  /** Frozen feature network for featureSource 'checkpoint' (ownership passes to the model). */
  featureFromCheckpoint?: LayerStack;
}

/**
 * Build the trial's network. Streams (trial-streams.ts): the value (or ReLU) net and the head
 * draw from 'value', an own-init feature net from 'feature', so regimes with their own gates
 * share the value-net init for the same seed. A regime gated from a parent checkpoint draws from
 * 'value:<streamScope>': independent of its parent's init, whose trained weights give the gates.
 */
export function buildTrialModel(opts: BuildModelOptions): TrialModel {
  const { plan, regime, init, gate, seed } = opts;
  const valueRng = trialRng(seed, 'value', regime);
  const value = createStack(plan, init, valueRng, true);
  const head = createHead(plan, init, valueRng);
  let feature: LayerStack | undefined;
  switch (regime.featureSource) {
    case 'none':
      break;
    case 'own-init':
      feature = createStack(plan, init, trialRng(seed, 'feature', regime), regime.trainsFeature);
      break;
    case 'value-init':
      feature = frozenCopy(value);
      break;
    case 'checkpoint':
      if (!opts.featureFromCheckpoint) throw new Error(`regime ${regime.regime} needs gates from a checkpoint`);
      feature = opts.featureFromCheckpoint;
      break;
  }
  const trainable = [...stackVariables(value), ...stackVariables([head])];
  if (feature && regime.trainsFeature) trainable.push(...stackVariables(feature));

  const logits = (x: tf.Tensor): tf.Tensor2D => {
    if (!feature) return reluForward(plan, value, head, x);
    if (regime.gating === 'soft') return gatedForward(plan, value, head, softGates(plan, feature, x, gate.beta, gate.eps), x, regime.trainsFeature);
    return gatedForward(plan, value, head, hardGates(plan, feature, x), x);
  };

  return {
    plan,
    regime,
    value,
    feature,
    head,
    trainable,
    trainingForward(x) {
      if (feature && regime.gating === 'hard') {
        const gates = hardGates(plan, feature, x);
        return () => gatedForward(plan, value, head, gates, x);
      }
      return () => logits(x);
    },
    logits,
    gateActivity(x) {
      return hardGates(plan, feature ?? value, x);
    },
    dispose() {
      disposeStack(value);
      disposeStack(feature);
      disposeStack([head]);
    },
  };
}
