/**
 * Which trials can train together as one stack: a pure function of the spec. Trials with the
 * same key share everything a stack shares (data, network shape, regime, batch size, epochs,
 * loss, initialiser, soft-gate shape, optimiser kind, backend) and may differ in what each
 * member keeps for itself: seed, step size, parent gates and the checkpoints it writes.
 */
import type { TrialSpec } from '../types.js';

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
 * The fusion key of `spec`, or undefined when it cannot be fused (fusionBlocker). Stage 0 trains
 * its own-init gates and stage k >= 1 gates from a parent, so they are different stacks; stage
 * k >= 1 members of different k (different parents) share one.
 */
export function fusionKey(spec: TrialSpec): string | undefined {
  if (fusionBlocker(spec)) return undefined;
  const gatesFromParent = spec.regime === 'flnpf' || (spec.regime === 'stage' && (spec.stage ?? 0) > 0);
  return canonical({
    dataset: spec.dataset,
    arch: spec.arch,
    regime: spec.regime,
    gatesFromParent,
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
  const fields: (keyof TrialSpec)[] = ['dataset', 'arch', 'regime', 'stage', 'gate', 'optimizer', 'loss', 'init', 'epochs', 'batchSize', 'backend'];
  for (const f of fields) {
    const a = f === 'optimizer' ? first.optimizer.name : f === 'stage' ? (first.stage ?? 0) > 0 : first[f];
    const b = f === 'optimizer' ? spec.optimizer.name : f === 'stage' ? (spec.stage ?? 0) > 0 : spec[f];
    if (canonical(a) !== canonical(b)) return `${f} differs (${canonical(a)} vs ${canonical(b)})`;
  }
  return 'the specs differ in a shared setting';
}
