/**
 * Between a trial's network and checkpoint content: which tensors a checkpoint holds, and the
 * frozen gating network FLNPF / stage k >= 1 build from a ReLU checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernelShape, type NetworkPlan } from '../models/architecture.js';
import { frozenStackFrom, type LayerStack } from '../models/network.js';
import { CheckpointError } from './errors.js';
import type { CheckpointContent, CheckpointHeader, TensorEntry } from './format.js';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** One layer's tensors (a model's variables, or one member's slice of a fused stack). */
export interface CheckpointLayer {
  kernel: tf.Tensor;
  bias?: tf.Tensor;
}

/** What a checkpoint is written from: a TrialModel, or one member of a fused stack. */
export interface CheckpointParts {
  value: CheckpointLayer[];
  feature?: CheckpointLayer[];
  head: CheckpointLayer;
}

function stackTensors(prefix: string, stack: CheckpointLayer[]): NamedTensor[] {
  return stack.flatMap((p, l) => [
    { name: `${prefix}.${l}.kernel`, tensor: p.kernel },
    ...(p.bias ? [{ name: `${prefix}.${l}.bias`, tensor: p.bias }] : []),
  ]);
}

/**
 * The tensors a checkpoint of `model` holds: a ReLU network as 'hidden.<l>.*' + 'head.*';
 * a DGN as 'value.<l>.*', 'feature.<l>.*' and 'head.*'.
 */
export function checkpointTensors(model: CheckpointParts): NamedTensor[] {
  const head = [
    { name: 'head.kernel', tensor: model.head.kernel },
    ...(model.head.bias ? [{ name: 'head.bias', tensor: model.head.bias }] : []),
  ];
  if (!model.feature) return [...stackTensors('hidden', model.value), ...head];
  return [...stackTensors('value', model.value), ...stackTensors('feature', model.feature), ...head];
}

function sameArch(a: NetworkPlan['arch'], b: CheckpointHeader['arch']): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'fc' && b.kind === 'fc') return a.width === b.width && a.depth === b.depth;
  return true;
}

function describeArch(a: CheckpointHeader['arch']): string {
  return a.kind === 'fc' ? `fc width ${a.width} depth ${a.depth}` : a.kind;
}

/**
 * The frozen feature network FLNPF / stage k >= 1 gate with: the hidden layers of a ReLU
 * checkpoint. Refuses (CheckpointError, naming `file`) a checkpoint of another regime, another
 * architecture or width/depth, another input shape, or with a tensor of the wrong shape.
 */
export function gatesFromCheckpoint(content: CheckpointContent, plan: NetworkPlan, file: string): LayerStack {
  const { header, data } = content;
  if (header.regime !== 'relu') {
    throw new CheckpointError(file, 'wrong-kind', `holds a '${header.regime}' network; gates must come from a 'relu' checkpoint`);
  }
  if (!sameArch(plan.arch, header.arch)) {
    throw new CheckpointError(file, 'wrong-shape', `holds a ${describeArch(header.arch)} network, this trial is ${describeArch(plan.arch)}`);
  }
  if (header.inputShape.join('x') !== plan.inputShape.join('x')) {
    throw new CheckpointError(file, 'wrong-shape', `was trained on inputs ${header.inputShape.join('x')}, this trial's are ${plan.inputShape.join('x')}`);
  }
  const byName = new Map<string, { entry: TensorEntry; values: Float32Array }>();
  header.tensors.forEach((entry, i) => byName.set(entry.name, { entry, values: data[i] }));
  const kernels: tf.Tensor[] = [];
  const biases: (tf.Tensor | undefined)[] = [];
  try {
    plan.hidden.forEach((layer, l) => {
      const want = kernelShape(layer);
      const k = byName.get(`hidden.${l}.kernel`);
      if (!k) throw new CheckpointError(file, 'wrong-shape', `has no tensor hidden.${l}.kernel`);
      if (k.entry.shape.join('x') !== want.join('x')) {
        throw new CheckpointError(file, 'wrong-shape', `tensor hidden.${l}.kernel is ${k.entry.shape.join('x')}, this network needs ${want.join('x')}`);
      }
      kernels.push(tf.tensor(k.values, want));
      const b = byName.get(`hidden.${l}.bias`);
      if (b && b.entry.shape.join('x') !== String(want[want.length - 1])) {
        throw new CheckpointError(file, 'wrong-shape', `tensor hidden.${l}.bias is ${b.entry.shape.join('x')}, this network needs ${want[want.length - 1]}`);
      }
      biases.push(b ? tf.tensor(b.values, b.entry.shape) : undefined);
    });
    const stack = frozenStackFrom(kernels, biases);
    return stack;
  } finally {
    // tf.variable copies its initial value; the temporaries go either way.
    for (const t of [...kernels, ...biases]) t?.dispose();
  }
}
