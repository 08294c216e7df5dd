/**
 * The trainer's entry point for the NTK split (docs/protocol.md "NTK split", docs/ntk-split.md; DNPFL on MNIST).
 */
import type { NtkSplitPoint } from '../types.js';
import type { NtkSplitInput } from './ntk-split.js';
import { kernelSummary, ntkSplitKernels } from './ntk-split.js';

export interface MeasureNtkSplitInput extends NtkSplitInput {
  epoch: number;
  /** Which scalar `output` computes, recorded in the point, e.g. 'true-class-logit' (TRUE_CLASS_LOGIT). */
  outputName: string;
  /** Which parameters valueVars / featureVars hold, recorded in the point. */
  parameters: 'weights' | 'weights+biases';
}

/**
 * Trace and Frobenius norm of K^v = Psi_v^T Psi_v and K^phi = Psi_phi^T Psi_phi, where column s of
 * Psi_v (Psi_phi) is d y_hat(x_s) / d Theta^V (d Theta^F) for the scalar output `outputName`;
 * the DGN's NTK is K^v + K^phi (section 5, item 6; value and feature derivatives of eq. 7).
 */
export async function measureNtkSplit(input: MeasureNtkSplitInput): Promise<NtkSplitPoint> {
  const { kv, kphi, n } = await ntkSplitKernels(input);
  const v = kernelSummary(kv, n);
  const f = kernelSummary(kphi, n);
  return {
    epoch: input.epoch,
    output: input.outputName,
    parameters: input.parameters,
    valueTrace: v.trace,
    valueFrobenius: v.frobenius,
    featureTrace: f.trace,
    featureFrobenius: f.frobenius,
  };
}
