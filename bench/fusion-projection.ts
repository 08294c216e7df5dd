/**
 * The projected wall time of the paper's Table 2 MNIST sweeps on this machine, fused and unfused,
 * from measured per-trial costs (bench/fusion-bench.ts measures them). Pure: costs in, hours out.
 */
import type { Regime } from '../science/types.js';

/** Table 2 MNIST sweeps (sweeps/fc-mnist-sgd.yaml, sweeps/fc-mnist-adam.yaml). */
const SWEEPS = [
  { name: 'fc-mnist-sgd', optimizer: 'sgd' as const, epochs: 300, trialsPerRegime: 15 },
  { name: 'fc-mnist-adam', optimizer: 'adam' as const, epochs: 100, trialsPerRegime: 5 },
];
/**
 * How the sweep's trials can bundle: trials that train alike and are ready together. FRNPF-II
 * and FRNPF-DI (frozen hard gates) are ready at the start and share stacks; FLNPF trains the
 * same way but waits for its ReLU parent, so it bundles in a later wave.
 */
const WAVES: { regimes: Regime[]; costAs: Regime }[] = [
  { regimes: ['relu'], costAs: 'relu' },
  { regimes: ['frnpf-ii', 'frnpf-di'], costAs: 'frnpf-ii' },
  { regimes: ['dnpfl'], costAs: 'dnpfl' },
  { regimes: ['flnpf'], costAs: 'frnpf-ii' },
];
export const MNIST_STEPS_PER_EPOCH = Math.ceil(60000 / 32);
const MNIST_TEST_THOUSANDS = 10;
const MNIST_TRAIN_THOUSANDS = 60;
export const WORKERS = 2;

/** Measured per-trial costs of one (cost shape, optimiser): unfused, and fused at some K. */
export interface Costs {
  stepU: number;
  evalU: number;
  /**
   * Per member at K: ms per step, ms per 1000 test images, and (frozen gates from the gate cache)
   * ms per 1000 examples to compute the member's gates, paid once per run.
   */
  fused: Map<number, FusedCost>;
}

export interface FusedCost {
  step: number;
  eval: number;
  setup?: number;
}

/**
 * Per-member cost of a bundle of b, from the measured K: t(K) = a + c / K (c: the per-step cost
 * the stack shares, a: each member's own work), fitted through the two measured K nearest b.
 */
function perMemberAt(fused: Map<number, FusedCost>, b: number): FusedCost {
  const ks = [...fused.keys()].sort((x, y) => x - y);
  if (b === 1) return { step: Number.NaN, eval: Number.NaN };
  const exact = fused.get(b);
  if (exact) return exact;
  const lo = [...ks].reverse().find((k) => k < b) ?? ks[0];
  const hi = ks.find((k) => k > b && k !== lo) ?? ks[ks.length - 1];
  if (lo === hi) return fused.get(lo) as FusedCost;
  const fit = (key: 'step' | 'eval'): number => {
    const [tl, th] = [(fused.get(lo) as FusedCost)[key], (fused.get(hi) as FusedCost)[key]];
    const c = (tl - th) / (1 / lo - 1 / hi);
    return th - c / hi + c / b;
  };
  const setup = (fused.get(hi) as FusedCost).setup ?? (fused.get(lo) as FusedCost).setup;
  return { step: fit('step'), eval: fit('eval'), ...(setup !== undefined ? { setup } : {}) };
}

/** Split n trials into bundles of at most k, as even as possible. */
function bundles(n: number, k: number): number[] {
  const count = Math.ceil(n / k);
  return Array.from({ length: count }, (_, i) => Math.floor(n / count) + (i < n % count ? 1 : 0));
}

export interface Projection {
  workers: number;
  k: number;
  unfused_hours: number;
  fused_hours: number;
  per_trial_epoch_s: Record<string, { unfused: number; fused: number; bundle: number }>;
}

/**
 * Wall time of both sweeps on this machine: per trial-epoch cost (1875 steps + 10,000 test
 * images) x epochs (fused frozen-gate members: plus the gate cache's one pass over 70,000 images), summed over trials and divided over `WORKERS` worker processes. Fused,
 * each wave's trials run in bundles of at most k; a bundle of b costs b x the per-member cost at
 * b. FLNPF waits for its ReLU parent, so ReLU then FLNPF (the critical path) bounds it below.
 */
export function project(costs: Map<string, Costs>, k: number): Projection {
  let unfusedWork = 0;
  let fusedWork = 0;
  let unfusedPath = 0;
  let fusedPath = 0;
  const perEpoch: Projection['per_trial_epoch_s'] = {};
  for (const sweep of SWEEPS) {
    const pathU: number[] = [];
    const pathF: number[] = [];
    for (const wave of WAVES) {
      const c = costs.get(`${wave.costAs}/${sweep.optimizer}`);
      if (!c) throw new Error(`no measurement for ${wave.costAs}/${sweep.optimizer}`);
      const unfusedEpoch = (MNIST_STEPS_PER_EPOCH * c.stepU + MNIST_TEST_THOUSANDS * c.evalU) / 1000;
      const n = wave.regimes.length * sweep.trialsPerRegime;
      unfusedWork += n * sweep.epochs * unfusedEpoch;
      let longest = 0;
      for (const b of bundles(n, k)) {
        const m = b === 1 ? { step: c.stepU, eval: c.evalU } : perMemberAt(c.fused, b);
        const memberEpoch = (MNIST_STEPS_PER_EPOCH * m.step + MNIST_TEST_THOUSANDS * m.eval) / 1000;
        // The gate cache's one pass over the training and test sets, once per member.
        const memberSetup = ((MNIST_TRAIN_THOUSANDS + MNIST_TEST_THOUSANDS) * (m.setup ?? 0)) / 1000;
        fusedWork += b * (sweep.epochs * memberEpoch + memberSetup);
        longest = Math.max(longest, b * (sweep.epochs * memberEpoch + memberSetup));
        perEpoch[`${sweep.name}/${wave.regimes.join('+')}`] = { unfused: unfusedEpoch, fused: memberEpoch, bundle: b };
      }
      if (wave.costAs !== 'dnpfl' && (wave.regimes.includes('relu') || wave.regimes.includes('flnpf'))) {
        pathU.push(sweep.epochs * unfusedEpoch);
        pathF.push(longest);
      }
    }
    unfusedPath = Math.max(unfusedPath, pathU.reduce((a, x) => a + x, 0));
    fusedPath = Math.max(fusedPath, pathF.reduce((a, x) => a + x, 0));
  }
  return {
    workers: WORKERS,
    k,
    unfused_hours: Math.max(unfusedWork / WORKERS, unfusedPath) / 3600,
    fused_hours: Math.max(fusedWork / WORKERS, fusedPath) / 3600,
    per_trial_epoch_s: perEpoch,
  };
}
