import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTrainFlags, specFromFlags } from '../../cli/commands/train.js';
import { parseTrialSpecText } from '../../cli/trial-spec-file.js';
import { trialSpecJsonSchemaText } from '../../science/trial-spec-json-schema.js';

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

const root = join(import.meta.dirname, '..', '..');

describe('trial spec file - documented, and its errors named like a sweep spec', () => {
  it('trial spec file - docs/trial-spec.schema.json is what npm run gen:trial-schema writes from the zod schema', () => {
    expect(readFileSync(join(root, 'docs', 'trial-spec.schema.json'), 'utf8')).toBe(trialSpecJsonSchemaText());
    const schema = JSON.parse(trialSpecJsonSchemaText()) as { properties: Record<string, { enum?: string[] }>; required: string[] };
    expect(schema.required).toEqual(['dataset', 'regime', 'optimizer', 'epochs', 'seed']);
    expect(schema.properties.regime.enum).toContain('dnpfl');
  });

  it('trial spec file - the docs example is a valid trial spec', () => {
    const s = specFromFlags(parseTrainFlags(['--spec', join(root, 'docs', 'examples', 'trial.yaml')]));
    expect(s).toMatchObject({ regime: 'dnpfl', epochs: 2, dataset: { name: 'mnist', trainSubset: { first: 2000 } } });
  });

  it('trial spec file - every problem with file:line:column, did-you-mean, where a key belongs, and the flag that set a field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npf-trial-spec-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'dataset: {name: mnsit}\nregime: relu\noptimizer: {name: adam, lr: 0.001}\nepochs: zero\nseed: 1\nlr: 3\n');
    expect(messageOf(() => specFromFlags(parseTrainFlags(['--spec', bad]))).split('\n')).toEqual([
      `${bad}: 3 problems:`,
      `  ${bad}:1:17: dataset.name: unknown value 'mnsit' (did you mean 'mnist'?) (expected mnist, fashion-mnist, cifar10, cifar100, binary-mnist)`,
      `  ${bad}:4:9: epochs: expected number, got string "zero"`,
      expect.stringMatching(new RegExp(`^  ${bad}:6:1: lr: unknown key 'lr' \\(it belongs under optimizer\\) \\(allowed: dataset, arch, `)),
    ]);
    const overridden = messageOf(() => specFromFlags(parseTrainFlags(['--spec', bad, '--lr', '-1', '--dataset', 'mnist', '--epochs', '2']))).split('\n');
    expect(overridden[0]).toBe('2 problems in the trial spec:');
    expect(overridden[2]).toBe('  --lr: optimizer.lr: must be > 0, got -1');
    // Flags only: no file, the field and the flag.
    expect(messageOf(() => specFromFlags(parseTrainFlags(['--regime', 'stage'])))).toBe("command line: stage: regime 'stage' needs a stage number k (0 = frnpf-ii)");
  });

  it('trial spec file - YAML syntax errors and a non-mapping name file:line', () => {
    expect(messageOf(() => parseTrialSpecText('a: [\n', 't.yaml'))).toMatch(/^t\.yaml:2:1: YAML syntax error: /);
    expect(messageOf(() => parseTrialSpecText('- 1\n', 't.yaml'))).toBe('t.yaml:1:1: a trial spec must be a YAML mapping (dataset, regime, optimizer, epochs, ...)');
  });
});
