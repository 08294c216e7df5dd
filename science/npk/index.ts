/**
 * NPF / NPK mathematics (paper sections 2, 4 and 5; docs/protocol.md "NPK experiment" and "NTK split",
 * docs/nu.md, docs/ntk-split.md).
 *
 * For the trainer: measureNu (nu_t from gate activity) and measureNtkSplit (K^v / K^phi of a
 * DNPFL network). The rest is exported for analysis, tests and benchmarks.
 */
export { measureNu, type MeasureNuInput } from './measure-nu.js';
export { measureNtkSplit, type MeasureNtkSplitInput } from './measure-ntk-split.js';
export { npkFromGates, gram, type LambdaScale, type NpkFromGatesOptions, type NpkMatrices } from './npk-from-gates.js';
export { nuFromNpk, type NuOptions, type NuResult } from './nu.js';
export {
  ntkSplitKernels,
  kernelSummary,
  gramRows,
  trueClassLogit,
  TRUE_CLASS_LOGIT,
  SINGLE_OUTPUT,
  scalarOutputName,
  type NtkSplitInput,
  type NtkSplitKernels,
  type KernelSummary,
} from './ntk-split.js';
export { cholesky, choleskySolve, forwardSubstitute, backSubstitute, type CholeskyResult } from './cholesky.js';
export { symmetricEigenvalues, symmetricEigen, conditionNumber, type SymmetricEigen } from './symmetric-eigen.js';
export { gatesOf, gatedForward, reluForward, gateValue, layerShape, validateFcNet, type FcNet, type GateKind } from './gated-network.js';
export { npf, npv, outputFromPaths, npkByEnumeration, pathCount, pathIndices, MAX_ENUMERATED_PATHS } from './path-enumeration.js';
export { NpkShapeError, NpkNumericError } from './errors.js';
