/**
 * K networks of the same plan that train alike (fusion-key.ts) held as one stack: every parameter is one variable
 * with the member axis first (a kernel [K, in, out], a bias [K, out]). Member k's initial
 * weights are exactly those its unfused trial would draw (each member is first built by
 * buildTrialModel from its own seed and gates, then stacked), so fusion changes nothing a
 * member computes, only how many kernel launches it shares.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GateSpec, InitName } from '../types.js';
import { layerUnits, type NetworkPlan } from '../models/architecture.js';
import type { LayerStack } from '../models/network.js';
import { gateConst, gateMul, relu, softGateOp } from '../models/ops.js';
import { hardGate } from '../models/gates.js';
import type { RegimePlan } from '../regimes.js';
import { buildTrialModel, type TrialModel } from '../train/trial-model.js';
import type { CheckpointParts } from '../checkpoint/model-checkpoint.js';
import { blasProducts } from '../backend/wasm-products.js';
import { stackedLayerOps, transposeMembers, type StackedLayerOps } from './stacked-ops.js';

/** One layer of every member: kernel [K, out, in] or [K, in, out] (the stack's KernelLayout, stacked-ops.ts), bias [K, out]. */
export interface StackedLayer {
  kernel: tf.Variable;
  bias?: tf.Variable;
}

export interface StackedMember {
  seed: number;
  /**
   * This member's own regime plan (default: the stack's): members of one stack train alike but
   * may take their frozen gates from different sources (own init, value-net copy, parent).
   */
  regime?: RegimePlan;
  /** The frozen gating network of FLNPF / stage k >= 1 (ownership passes to the stack). */
  featureFromCheckpoint?: LayerStack;
}

export interface BuildStackedOptions {
  plan: NetworkPlan;
  /** How the stack trains (gating, whether the feature net trains); every member's must agree. */
  regime: RegimePlan;
  init: InitName;
  gate: GateSpec;
  members: StackedMember[];
}

export interface StackedModel {
  readonly plan: NetworkPlan;
  readonly regime: RegimePlan;
  /** Members currently in the stack. */
  readonly size: number;
  /** Variables the optimiser updates, in a fixed order (the unfused model's order). */
  readonly trainable: tf.Variable[];
  /**
   * True when the gates are frozen hard gates (FRNPF, FLNPF, stage k): a function of the example
   * alone, which the caller may compute once (gate-cache.ts) and pass to trainingForward / logits.
   */
  readonly hasFrozenGates: boolean;
  /** Units per hidden layer (the gates' widths). */
  readonly gateWidths: number[];
  /**
   * The frozen gates ([K, B, w] per layer) of a batch shared by every member (x [B, inputs]) or
   * of one batch each ([K, B, inputs]): what trainingForward computes when given none.
   */
  frozenGates(x: tf.Tensor): tf.Tensor[];
  /**
   * As TrialModel.trainingForward, for x [K, B, inputs]: the returned function gives logits
   * [K, B, outputs]. `gates`: the frozen gates of these rows ([K, B, w] per layer), when the
   * caller has them; otherwise they are computed from x.
   */
  trainingForward(x: tf.Tensor, gates?: tf.Tensor[]): () => tf.Tensor3D;
  /**
   * Logits [K, B, outputs] of a batch shared by every member ([B, inputs]) or of one batch each;
   * `gates` as for trainingForward ([K, B, w]).
   */
  logits(x: tf.Tensor, gates?: tf.Tensor[]): tf.Tensor3D;
  /** Member i's parameters as [in, out] / [out] tensors, named as its unfused checkpoint names them. Call inside tf.tidy or dispose them. */
  memberParts(i: number): CheckpointParts;
  /**
   * Keep only the members at `indices` (ascending): the stack's variables are replaced by
   * gathered copies (`trainable` then lists the new ones, in the same order).
   */
  keep(indices: number[]): void;
  dispose(): void;
}

interface Stack {
  value: StackedLayer[];
  feature?: StackedLayer[];
  head: StackedLayer;
}

function stackLayer(ops: StackedLayerOps, layers: { kernel: tf.Tensor; bias?: tf.Tensor }[], trainable: boolean): StackedLayer {
  const kernel = tf.tidy(() => tf.variable(ops.stackKernels(layers.map((l) => l.kernel)), trainable));
  const bias = layers[0].bias ? tf.tidy(() => tf.variable(tf.stack(layers.map((l) => l.bias as tf.Tensor)), trainable)) : undefined;
  return { kernel, bias };
}

function layerVariables(layers: StackedLayer[]): tf.Variable[] {
  return layers.flatMap((p) => (p.bias ? [p.kernel, p.bias] : [p.kernel]));
}

function gatherLayer(layer: StackedLayer, idx: tf.Tensor1D): StackedLayer {
  const pick = (v: tf.Variable): tf.Variable => tf.tidy(() => tf.variable(tf.gather(v, idx), v.trainable));
  const out = { kernel: pick(layer.kernel), bias: layer.bias ? pick(layer.bias) : undefined };
  layer.kernel.dispose();
  layer.bias?.dispose();
  return out;
}

function memberLayer(ops: StackedLayerOps, layer: StackedLayer, i: number): { kernel: tf.Tensor; bias?: tf.Tensor } {
  const slice = (v: tf.Variable): tf.Tensor => tf.squeeze(tf.slice(v, [i], [1]), [0]);
  return { kernel: ops.memberKernel(slice(layer.kernel)), bias: layer.bias ? slice(layer.bias) : undefined };
}

/** Build the stack of `members` (each from its own seed and gates, as buildTrialModel would). */
export function buildStackedModel(opts: BuildStackedOptions): StackedModel {
  const { plan, regime, gate } = opts;
  if (!plan.flatInput || plan.hidden.some((l) => l.kind !== 'dense')) throw new Error('fused training supports FC networks only');
  // BLAS products reproduce the unfused run only with the unfused model's own operand roles.
  const ops = stackedLayerOps(blasProducts() && tf.getBackend() === 'wasm' ? 'plain' : 'transposed');
  const stackedDense = ops.dense;
  const stackedDenseForward = ops.denseForward;
  const singles: TrialModel[] = [];
  let s: Stack;
  try {
    for (const m of opts.members) {
      const own = m.regime ?? regime;
      if (own.gating !== regime.gating || own.trainsFeature !== regime.trainsFeature) {
        throw new Error(`a ${own.regime} member cannot join a stack that trains like ${regime.regime}`);
      }
      singles.push(buildTrialModel({ plan, regime: own, init: opts.init, gate, seed: m.seed, featureFromCheckpoint: m.featureFromCheckpoint }));
    }
    const hasFeature = singles[0].feature !== undefined;
    s = {
      value: plan.hidden.map((_, l) => stackLayer(ops, singles.map((m) => m.value[l]), true)),
      feature: hasFeature ? plan.hidden.map((_, l) => stackLayer(ops, singles.map((m) => (m.feature as LayerStack)[l]), regime.trainsFeature)) : undefined,
      head: stackLayer(ops, singles.map((m) => m.head), true),
    };
  } finally {
    for (const m of singles) m.dispose();
  }
  let size = opts.members.length;
  let trainable: tf.Variable[] = [];
  const collect = (): void => {
    trainable = [...layerVariables(s.value), ...layerVariables([s.head])];
    if (s.feature && regime.trainsFeature) trainable.push(...layerVariables(s.feature));
  };
  collect();

  const head = (h: tf.Tensor): tf.Tensor3D => stackedDense(h, s.head.kernel, s.head.bias);

  // xT: the data batch transposed, once for both networks' first layers (transposed layout only).
  const hardGates = (x: tf.Tensor, xT?: tf.Tensor): tf.Tensor[] => {
    const gates: tf.Tensor[] = [];
    let h = x;
    (s.feature as StackedLayer[]).forEach((p, l) => {
      const q = stackedDenseForward(h, p.kernel, p.bias, l === 0 ? xT : undefined);
      gates.push(hardGate(q));
      h = tf.relu(q);
    });
    return gates;
  };

  const softGates = (x: tf.Tensor, xT?: tf.Tensor): tf.Tensor[] => {
    const gates: tf.Tensor[] = [];
    let h = x;
    (s.feature as StackedLayer[]).forEach((p, l) => {
      const q = stackedDense(h, p.kernel, p.bias, l === 0, xT);
      gates.push(softGateOp(q, gate.beta, gate.eps));
      h = relu(q);
    });
    return gates;
  };

  const gated = (x: tf.Tensor, xT: tf.Tensor | undefined, gates: tf.Tensor[], trainableGates: boolean): tf.Tensor3D => {
    let h = x;
    s.value.forEach((p, l) => {
      const q = stackedDense(h, p.kernel, p.bias, l === 0, xT);
      h = trainableGates ? gateMul(q, gates[l]) : gateConst(q, gates[l]);
    });
    return head(h);
  };

  const reluNet = (x: tf.Tensor): tf.Tensor3D => {
    let h = x;
    s.value.forEach((p, l) => {
      h = relu(stackedDense(h, p.kernel, p.bias, l === 0));
    });
    return head(h);
  };

  // Evaluation: no tape, and x may be shared by every member ([B, n]).
  const forwardOnly = (x: tf.Tensor, given?: tf.Tensor[]): tf.Tensor3D => {
    const gates = s.feature ? (given ?? hardOrSoft(x)) : undefined;
    let h = x;
    s.value.forEach((p, l) => {
      const q = stackedDenseForward(h, p.kernel, p.bias);
      h = gates ? tf.mul(q, gates[l]) : tf.relu(q);
    });
    return stackedDenseForward(h, s.head.kernel, s.head.bias);
  };
  const hardOrSoft = (x: tf.Tensor): tf.Tensor[] => {
    if (regime.gating === 'hard') return hardGates(x);
    const gates: tf.Tensor[] = [];
    let h = x;
    (s.feature as StackedLayer[]).forEach((p) => {
      const q = stackedDenseForward(h, p.kernel, p.bias);
      gates.push(softGateOp(q, gate.beta, gate.eps));
      h = tf.relu(q);
    });
    return gates;
  };

  const hasFrozenGates = s.feature !== undefined && regime.gating === 'hard';
  const noFrozenGates = (): never => {
    throw new Error(`a ${regime.regime} stack has no frozen gates`);
  };

  return {
    plan,
    regime,
    hasFrozenGates,
    gateWidths: plan.hidden.map((l) => layerUnits(l)),
    frozenGates: (x) => (hasFrozenGates ? hardGates(x) : noFrozenGates()),
    get size() {
      return size;
    },
    get trainable() {
      return trainable;
    },
    trainingForward(x, given) {
      if (!s.feature) return () => reluNet(x);
      const xT = ops.wantsInputTranspose ? transposeMembers(x) : undefined;
      if (regime.gating === 'hard') {
        const gates = given ?? hardGates(x, xT);
        return () => gated(x, xT, gates, false);
      }
      return () => gated(x, xT, softGates(x, xT), regime.trainsFeature);
    },
    logits: forwardOnly,
    memberParts(i) {
      return {
        value: s.value.map((p) => memberLayer(ops, p, i)),
        feature: s.feature?.map((p) => memberLayer(ops, p, i)),
        head: memberLayer(ops, s.head, i),
      };
    },
    keep(indices) {
      if (indices.length === size) return;
      const idx = tf.tensor1d(indices, 'int32');
      try {
        s = {
          value: s.value.map((p) => gatherLayer(p, idx)),
          feature: s.feature?.map((p) => gatherLayer(p, idx)),
          head: gatherLayer(s.head, idx),
        };
      } finally {
        idx.dispose();
      }
      size = indices.length;
      collect();
    },
    dispose() {
      for (const p of [...s.value, ...(s.feature ?? []), s.head]) {
        p.kernel.dispose();
        p.bias?.dispose();
      }
    },
  };
}
