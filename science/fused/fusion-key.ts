/**
 * Which trials can train together as one stack: a pure function of the spec. Trials with the
 * same key share everything a stack shares (data, network shape, how the regime trains, batch
 * size, epochs, loss, initialiser, soft-gate shape, optimiser kind, backend) and may differ in
 * what each member keeps for itself: seed, step size, where its frozen gates come from, and
 * the checkpoints it writes.
 */
import type { TrialSpec } from '../types.js';
import { planRegime } from '../regimes.js';

/**
 * Why `spec` cannot be fused with anything, or undefined when it can:
 * - conv networks: one conv step is ~100 GFLOP, compute-bound, with nothing to amortise;
 * - kernel measurements: the NPK / NTK-split hooks read one model at a time.
 */
export function fusionBlocker(spec: TrialSpec): string | undefined {
  if (spec.arch.kind !== 'fc') return `arch '${spec.arch.kind}' is not fused (only fc networks are)`;
  if (spec.measure) return 'trials with kernel measurements (measure) are not fused';
  return undefined;
}

/** JSON with object keys sorted, so equal values give equal strings. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * How a regime trains, which is all a stack needs to agree on: ReLU ('self'), a frozen
 * hard-gating network (FRNPF-II, FRNPF-DI, FLNPF, every stage: they differ only in where the
 * frozen weights come from, which is each member's own), or a trainable soft-gating one (DNPFL).
 */
export function trainingShape(spec: TrialSpec): string {
  const plan = planRegime(spec.regime, spec.stage, spec.stageEvery);
  return `${plan.gating}${plan.trainsFeature ? '+trained-feature' : ''}`;
}

/** The fusion key of `spec`, or undefined when it cannot be fused (fusionBlocker). */
export function fusionKey(spec: TrialSpec): string | undefined {
  if (fusionBlocker(spec)) return undefined;
  return canonical({
    dataset: spec.dataset,
    arch: spec.arch,
    shape: trainingShape(spec),
    gate: spec.gate,
    optimizer: spec.optimizer.name,
    loss: spec.loss,
    init: spec.init,
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    backend: spec.backend,
  });
}

/**
 * The first field in which `spec` differs from `first` for fusion purposes, as a sentence, or
 * undefined when the two can share a stack.
 */
export function fusionMismatch(first: TrialSpec, spec: TrialSpec): string | undefined {
  const blocker = fusionBlocker(spec) ?? fusionBlocker(first);
  if (blocker) return blocker;
  if (fusionKey(first) === fusionKey(spec)) return undefined;
  const fields: (keyof TrialSpec)[] = ['dataset', 'arch', 'regime', 'gate', 'optimizer', 'loss', 'init', 'epochs', 'batchSize', 'backend'];
  for (const f of fields) {
    const a = f === 'optimizer' ? first.optimizer.name : f === 'regime' ? trainingShape(first) : first[f];
    const b = f === 'optimizer' ? spec.optimizer.name : f === 'regime' ? trainingShape(spec) : spec[f];
    if (canonical(a) !== canonical(b)) {
      if (f === 'regime') return `regime differs (${first.regime} trains as '${a}', ${spec.regime} as '${b}')`;
      return `${f} differs (${canonical(a)} vs ${canonical(b)})`;
    }
  }
  return 'the specs differ in a shared setting';
}
