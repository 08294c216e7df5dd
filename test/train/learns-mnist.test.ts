import { describe, expect, it } from 'vitest';
import { runTrial } from '../../science/run-trial.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';

describe('train - learning on real MNIST', () => {
  it('train - one epoch on a 2000-example MNIST subset (200 per class) reaches > 85% test accuracy', async () => {
    const spec = resolveTrialSpec({
      dataset: { name: 'mnist', trainSubset: { perClass: 200 } },
      arch: { kind: 'fc', width: 128, depth: 1 },
      regime: 'relu',
      optimizer: { name: 'adam', lr: 1e-3 },
      epochs: 1,
      batchSize: 8,
      seed: 1,
      backend: 'wasm',
    });
    const r = await runTrial(spec);
    expect(r.status).toBe('succeeded');
    expect(r.epochs[0].testAccuracy).toBeGreaterThan(0.85);
  });
});
