/**
 * The layer plan of each architecture of docs/protocol.md, as plain data: the hidden layers that
 * the ReLU network, the feature network and the value network share, and the output layer.
 */
import type { ArchSpec } from '../types.js';
import { InvalidInputError } from '../../common/errors.js';

export type ArchKind = ArchSpec['kind'];

/** The architectures, in Table 2's row order, with the paper's spelling. */
const ARCH_LABELS = { fc: 'FC', vconv: 'VCONV', gconv: 'GCONV' } as const satisfies Record<ArchKind, string>;

/** Every architecture's kind. */
export const ARCH_KINDS = Object.keys(ARCH_LABELS) as [ArchKind, ...ArchKind[]];

/** The paper's spelling of an architecture ('gconv' -> 'GCONV'). */
export function archDisplayName(kind: ArchKind): string {
  return ARCH_LABELS[kind];
}

export type HiddenLayerPlan =
  | { kind: 'dense'; inUnits: number; units: number }
  | { kind: 'conv'; inChannels: number; filters: number; kernelSize: number };

export interface NetworkPlan {
  arch: ArchSpec;
  /** One example's shape, NHWC without the batch axis. */
  inputShape: [number, number, number];
  /** True when the network reads the input as a flat vector (FC). */
  flatInput: boolean;
  hidden: HiddenLayerPlan[];
  /**
   * Between conv and dense layers: Flatten (VCONV) or GlobalAveragePooling2D (GCONV), applied
   * before hidden layer `at` (or before the output layer when at === hidden.length).
   */
  transition?: { at: number; kind: 'flatten' | 'gap' };
  /** Output units: the number of classes, or 1 for a squared-loss regression output. */
  outputs: number;
  /** Whether layers have biases. */
  bias: boolean;
}

const CONV_CHANNELS = [64, 64, 128, 128];
const CONV_DENSE_UNITS = [256, 256];

/** Shape of a layer's kernel: [in, out] (dense) or [k, k, in, out] (conv). */
export function kernelShape(layer: HiddenLayerPlan | { kind: 'dense'; inUnits: number; units: number }): number[] {
  return layer.kind === 'dense' ? [layer.inUnits, layer.units] : [layer.kernelSize, layer.kernelSize, layer.inChannels, layer.filters];
}

/** Output channels/units of a layer (its bias length and gate width). */
export function layerUnits(layer: HiddenLayerPlan): number {
  return layer.kind === 'dense' ? layer.units : layer.filters;
}

/**
 * The plan of `arch` on inputs of `inputShape` with `outputs` output units.
 * - FC: `depth` hidden Dense(width) layers on the flattened input, then Dense(outputs).
 * - VCONV: 4 x Conv2D 3x3 'same' (64, 64, 128, 128), Flatten, Dense 256, Dense 256, Dense(outputs).
 * - GCONV: as VCONV with GlobalAveragePooling2D instead of Flatten.
 */
export function planNetwork(arch: ArchSpec, inputShape: [number, number, number], outputs: number, bias: boolean): NetworkPlan {
  const [h, w, c] = inputShape;
  if (arch.kind === 'fc') {
    if (!(arch.width >= 1 && arch.depth >= 1)) {
      throw new InvalidInputError(`arch fc needs width >= 1 and depth >= 1, got width ${arch.width}, depth ${arch.depth}`);
    }
    const hidden: HiddenLayerPlan[] = [];
    let inUnits = h * w * c;
    for (let l = 0; l < arch.depth; l++) {
      hidden.push({ kind: 'dense', inUnits, units: arch.width });
      inUnits = arch.width;
    }
    return { arch, inputShape, flatInput: true, hidden, outputs, bias };
  }
  const hidden: HiddenLayerPlan[] = [];
  let inChannels = c;
  for (const filters of CONV_CHANNELS) {
    hidden.push({ kind: 'conv', inChannels, filters, kernelSize: 3 });
    inChannels = filters;
  }
  const kind = arch.kind === 'vconv' ? 'flatten' : 'gap';
  let inUnits = kind === 'flatten' ? h * w * inChannels : inChannels;
  for (const units of CONV_DENSE_UNITS) {
    hidden.push({ kind: 'dense', inUnits, units });
    inUnits = units;
  }
  return { arch, inputShape, flatInput: false, hidden, transition: { at: CONV_CHANNELS.length, kind }, outputs, bias };
}

/** Input units of the output layer. */
export function headInUnits(plan: NetworkPlan): number {
  return layerUnits(plan.hidden[plan.hidden.length - 1]);
}
