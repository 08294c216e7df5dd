import { describe, expect, it } from 'vitest';
import { fusionBlocker, fusionKey, fusionMismatch } from '../../science/fused/fusion-key.js';
import { resolveTrialSpec } from '../../science/trial-spec.js';
import type { TrialSpec } from '../../science/types.js';

function spec(over: Record<string, unknown> = {}): TrialSpec {
  return resolveTrialSpec({ dataset: { name: 'mnist' }, regime: 'relu', optimizer: { name: 'sgd', lr: 0.1 }, epochs: 3, seed: 1, ...over });
}

describe('fused - which trials share a stack', () => {
  it('fused - seed, step size and requested checkpoints do not change the key (gates are not part of a spec)', () => {
    const k = fusionKey(spec());
    expect(k).toBeDefined();
    expect(fusionKey(spec({ seed: 9, optimizer: { name: 'sgd', lr: 0.001 }, checkpoints: { best: true } }))).toBe(k);
    const fl = fusionKey(spec({ regime: 'flnpf' }));
    expect(fusionKey(spec({ regime: 'flnpf', seed: 4 }))).toBe(fl);
    // Every regime with frozen hard gates trains alike (the gates' source is each member's own):
    // frnpf-ii, frnpf-di, flnpf and stages of any k share a stack; relu and dnpfl have their own.
    const hard = [
      spec({ regime: 'frnpf-ii' }),
      spec({ regime: 'frnpf-di' }),
      spec({ regime: 'stage', stage: 0 }),
      spec({ regime: 'stage', stage: 1 }),
      spec({ regime: 'stage', stage: 3 }),
    ].map(fusionKey);
    expect(new Set([...hard, fl]).size).toBe(1);
    expect(new Set([fl, k, fusionKey(spec({ regime: 'dnpfl' }))]).size).toBe(3);
  });

  it('fused - every shared setting changes the key and is named by fusionMismatch', () => {
    const base = spec();
    const changes: [Record<string, unknown>, string][] = [
      [{ dataset: { name: 'fashion-mnist' } }, 'dataset'],
      [{ dataset: { name: 'mnist', trainSubset: { first: 100 } } }, 'dataset'],
      [{ arch: { kind: 'fc', width: 64, depth: 5 } }, 'arch'],
      [{ regime: 'dnpfl' }, 'regime'],
      [{ regime: 'frnpf-ii' }, 'regime'],
      [{ gate: { beta: 2, eps: 0.1 } }, 'gate'],
      [{ optimizer: { name: 'adam', lr: 0.1 } }, 'optimizer'],
      [{ loss: 'squared' }, 'loss'],
      [{ init: 'sign-sqrt2' }, 'init'],
      [{ epochs: 4 }, 'epochs'],
      [{ batchSize: 16 }, 'batchSize'],
      [{ backend: 'cpu' }, 'backend'],
    ];
    for (const [over, field] of changes) {
      const other = spec(over);
      expect(fusionKey(other), field).not.toBe(fusionKey(base));
      expect(fusionMismatch(base, other), field).toMatch(new RegExp(`^${field} differs`));
    }
    expect(fusionMismatch(base, spec({ seed: 7 }))).toBeUndefined();
  });

  it('fused - conv networks and kernel measurements are never fused', () => {
    expect(fusionBlocker(spec({ arch: { kind: 'vconv' } }))).toMatch(/vconv/);
    expect(fusionKey(spec({ arch: { kind: 'gconv' } }))).toBeUndefined();
    const measured = spec({ regime: 'dnpfl', measure: { ntkSplit: { every: 1, examplesPerClass: 2 } } });
    expect(fusionKey(measured)).toBeUndefined();
    expect(fusionMismatch(spec(), measured)).toMatch(/measure/);
  });
});
