import { describe, expect, it } from 'vitest';
import { parseSweepSpec } from '../../coordinator/sweep-spec/parse-sweep.js';
import { SweepSpecError } from '../../coordinator/sweep-spec/errors.js';
import { InvalidInputError } from '../../common/errors.js';

const base = `name: t
axes:
  datasets:
    - name: mnist
  archs:
    - kind: fc
  optimizers:
    - name: sgd
      lrs: [0.1, 0.01]
  regimes: [relu, flnpf, dnpf]
  seeds: [0, 1]
epochs: 5
`;

function errorOf(text: string, opts: Parameters<typeof parseSweepSpec>[1] = { file: 'sweeps/x.yaml' }): SweepSpecError {
  try {
    parseSweepSpec(text, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(SweepSpecError);
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as SweepSpecError;
  }
  throw new Error('expected a SweepSpecError');
}

describe('spec - parse errors name file, line:column and field', () => {
  it('unknown regime, with the expected list and a suggestion', () => {
    const e = errorOf(base);
    expect(e.message).toBe(
      "sweeps/x.yaml:10:26: axes.regimes[2]: unknown regime 'dnpf' (did you mean 'dnpfl'?) (expected relu, frnpf-ii, frnpf-di, dnpfl, flnpf, stage)",
    );
    expect(e.issues[0]).toMatchObject({ file: 'sweeps/x.yaml', line: 10, column: 26, path: 'axes.regimes[2]' });
  });

  it('repeated datasets, archs or optimizers are refused at the repeated entry', () => {
    const spec = base
      .replace('    - name: mnist\n', '    - name: mnist\n    - name: mnist\n')
      .replace('    - kind: fc\n', '    - kind: fc\n    - { kind: fc, width: 64 }\n')
      .replace('      lrs: [0.1, 0.01]\n', '      lrs: [0.1, 0.01]\n    - name: sgd\n      lrs: [0.001]\n')
      .replace('dnpf]', 'dnpfl]');
    const paths = errorOf(spec).issues.map((i) => [i.path, i.message]);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['axes.datasets[1]', "dataset 'mnist' appears twice: give the entries distinct labels"],
        ['axes.archs[1]', "arch 'fc' appears twice: give the entries distinct labels"],
        ['axes.optimizers[1].name', "optimizer 'sgd' appears twice: list all its step sizes in one lrs"],
      ]),
    );
    expect(() => parseSweepSpec(spec.replace('{ kind: fc, width: 64 }', '{ kind: fc, width: 64, label: fc64 }').replace('    - name: mnist\n    - name: mnist\n', '    - name: mnist\n    - { name: mnist, label: m2 }\n').replace('    - name: sgd\n      lrs: [0.001]\n', ''))).not.toThrow();
  });

  it('malformed YAML', () => {
    const e = errorOf('name: t\naxes:\n  datasets: [mnist\n  archs: x\n');
    expect(e.message).toMatch(/^sweeps\/x\.yaml:\d+:\d+: YAML syntax error: /);
    expect(e.issues[0].line).toBeGreaterThanOrEqual(3);
  });

  it('duplicate keys are a YAML error', () => {
    const e = errorOf('name: t\nname: u\n');
    expect(e.message).toMatch(/^sweeps\/x\.yaml:2:1: YAML syntax error: .*unique/);
  });

  it('wrong type', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu, flnpf]').replace('epochs: 5', 'epochs: five'));
    expect(e.message).toBe('sweeps/x.yaml:12:9: epochs: expected number, got string "five"');
  });

  it('unknown key, with did-you-mean', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('  seeds:', '  seedz:'));
    expect(e.message).toMatch(/^sweeps\/x\.yaml: 2 problems:\n {2}sweeps\/x\.yaml:11:3: axes\.seedz: unknown key 'seedz' \(did you mean 'seeds'\?\)/);
  });

  it('a misspelt key is reported before the required field it leaves missing', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('      lrs: [0.1, 0.01]', '      lr: 0.1'));
    expect(e.message).toBe("sweeps/x.yaml: 2 problems:\n  sweeps/x.yaml:9:7: axes.optimizers[0].lr: unknown key 'lr' (did you mean 'lrs'?) (allowed: name, lrs)\n  sweeps/x.yaml:8:7: axes.optimizers[0].lrs: required");
    expect(e.issues[1]).toMatchObject({ path: 'axes.optimizers[0].lrs', message: 'required' });
  });

  it('a number out of range names the bound and the value', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('lrs: [0.1, 0.01]', 'lrs: [0.1, -2]'));
    expect(e.message).toBe('sweeps/x.yaml:9:18: axes.optimizers[0].lrs[1]: must be > 0, got -2');
  });

  it('unknown top-level key far from any known one has no suggestion', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]') + 'colour: red\n');
    expect(e.message).toMatch(/^sweeps\/x\.yaml:13:1: colour: unknown key 'colour' \(allowed: /);
  });

  it('missing required field points at its parent mapping', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('epochs: 5\n', ''));
    expect(e.message).toBe('sweeps/x.yaml:1:1: epochs: required');
  });

  it('lists every problem, the earliest first', () => {
    const e = errorOf(base.replace('name: mnist', 'name: mnsit').replace('epochs: 5', 'epochs: -1'));
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('sweeps/x.yaml: 3 problems:');
    expect(lines[1]).toMatch(/^ {2}sweeps\/x\.yaml:4:13: axes\.datasets\[0\]\.name: unknown dataset 'mnsit' \(did you mean 'mnist'\?\)/);
    expect(lines.slice(2).map((l) => l.split(': ')[1])).toEqual(['axes.regimes[2]', 'epochs']);
    expect(e.message).not.toMatch(/more problem/);
    expect(e.issues.map((i) => i.path)).toEqual(['axes.datasets[0].name', 'axes.regimes[2]', 'epochs']);
  });

  it('a non-mapping document', () => {
    expect(errorOf('- a\n- b\n').message).toMatch(/sweeps\/x\.yaml:1:1: a sweep spec must be a YAML mapping/);
  });

  it('cifar without dir', () => {
    const e = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('name: mnist', 'name: cifar10'));
    expect(e.message).toMatch(/^sweeps\/x\.yaml:4:7: axes\.datasets\[0\]\.dir: dataset cifar10 needs dir/);
  });

  it('stage k beyond the ReLU epochs', () => {
    const text = base
      .replace('regimes: [relu, flnpf, dnpf]', 'regimes: [stage]\n  stages: [0, 6, 7]')
      .replace('epochs: 5', 'epochs: { relu: 60, stage: 80 }');
    const e = errorOf(text);
    expect(e.message).toBe(
      "sweeps/x.yaml:11:18: axes.stages[2]: stage 7 needs the ReLU parent's best@70 checkpoint, but the ReLU parent trains only 60 epochs (raise epochs.relu to 70 or lower checkpointEvery)",
    );
  });

  it('flnpf without any ReLU epochs (no reachable parent config)', () => {
    const text = base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [flnpf]').replace('epochs: 5', 'epochs: { flnpf: 5 }');
    expect(errorOf(text).message).toBe(
      "sweeps/x.yaml:10:13: axes.regimes[0]: regime 'flnpf' needs a ReLU parent trial, but its epochs are unknown (add epochs.relu or epochs.default)",
    );
  });

  it('epochs map missing a regime of the grid', () => {
    const text = base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu, dnpfl]').replace('epochs: 5', 'epochs: { relu: 5 }');
    expect(errorOf(text).message).toBe("sweeps/x.yaml:12:9: epochs: no epochs for regime 'dnpfl' (add epochs.dnpfl or epochs.default)");
  });

  it('unknown key inside the per-regime epochs map', () => {
    const text = base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('epochs: 5', 'epochs: { relu: 5, rleu: 6 }');
    expect(errorOf(text).message).toMatch(/^sweeps\/x\.yaml:12:20: epochs\.rleu: unknown key 'rleu' \(did you mean 'relu'\?\)/);
  });

  it('seeds and seedCount together, and neither', () => {
    const ok = base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]');
    expect(errorOf(ok.replace('  seeds: [0, 1]', '  seeds: [0, 1]\n  seedCount: 3')).message).toMatch(/axes\.seedCount: give either seeds or seedCount/);
    expect(errorOf(ok.replace('  seeds: [0, 1]\n', '')).message).toMatch(/axes: give seeds \(a list\) or seedCount/);
  });

  it('width on a conv arch is refused', () => {
    const text = base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('- kind: fc', '- kind: gconv\n      width: 3');
    expect(errorOf(text).message).toMatch(/^sweeps\/x\.yaml:7:14: axes\.archs\[0\]\.width: width applies to arch fc only/);
  });
});

describe('spec - values the user supplies (env and --set)', () => {
  const cifar = base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('name: mnist', 'name: cifar10\n      dir: "${CIFAR_DIR}/bin"');

  it('interpolates ${NAME} from the given env', () => {
    const spec = parseSweepSpec(cifar, { file: 'c.yaml', env: { CIFAR_DIR: '/data/c10' } });
    expect(spec.axes.datasets[0].dir).toBe('/data/c10/bin');
    expect(spec.source).toBe('c.yaml');
  });

  it('an unset variable is an error at its field', () => {
    const e = errorOf(cifar, { file: 'c.yaml', env: {} });
    expect(e.message).toBe('c.yaml:5:12: axes.datasets[0].dir: environment variable CIFAR_DIR is not set (set it, or override the field with --set axes.datasets[0].dir=...)');
  });

  it('--set overrides a field before interpolation and validation', () => {
    const spec = parseSweepSpec(cifar, { file: 'c.yaml', set: ['axes.datasets[0].dir=/x/y', 'epochs=7', 'axes.seeds=[3, 4]'] });
    expect(spec.axes.datasets[0].dir).toBe('/x/y');
    expect(spec.epochs).toBe(7);
    expect(spec.axes.seeds).toEqual([3, 4]);
  });

  it('a malformed --set is one clear error naming the --set', () => {
    expect(errorOf(cifar, { file: 'c.yaml', set: ['nonsense'] }).message).toMatch(/^--set nonsense: expected path=value/);
  });

  it('a problem in a field a --set gave names the --set, not a line of the file; each unknown key on its own', () => {
    const e = errorOf(cifar, { file: 'c.yaml', set: ['axes.datasets[0].dir=/x', 'epochs=abc', 'epocs=3', 'lrs=[1]', 'axes.regimes[0]=dnpf'] });
    expect(e.message.split('\n')).toEqual([
      '4 problems in the sweep spec:',
      "  --set axes.regimes[0]=dnpf: axes.regimes[0]: unknown regime 'dnpf' (did you mean 'dnpfl'?) (expected relu, frnpf-ii, frnpf-di, dnpfl, flnpf, stage)",
      expect.stringMatching(/^ {2}--set epochs=abc: epochs: expected number, got string "abc"$/),
      expect.stringMatching(/^ {2}--set epocs=3: epocs: unknown key 'epocs' \(did you mean 'epochs'\?\) \(allowed: /),
      expect.stringMatching(/^ {2}--set lrs=\[1\]: lrs: unknown key 'lrs' \(it belongs in each entry of axes\.optimizers\) \(allowed: /),
    ]);
  });
});

describe('spec - a key at the wrong level says where it belongs', () => {
  it('seedCount at the top level belongs under axes; epochs under axes belongs at the top level', () => {
    const top = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]') + 'seedCount: 3\n');
    expect(top.message).toMatch(/^sweeps\/x\.yaml:13:1: seedCount: unknown key 'seedCount' \(it belongs under axes\) \(allowed: /);
    const inAxes = errorOf(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]').replace('  seeds:', '  epochs: 3\n  seeds:'));
    expect(inAxes.issues[0].message).toMatch(/^unknown key 'epochs' \(it belongs at the top level\)/);
  });
});

describe('spec - defaults', () => {
  it('fills documented defaults', () => {
    const spec = parseSweepSpec(base.replace('regimes: [relu, flnpf, dnpf]', 'regimes: [relu]'));
    expect(spec.checkpointEvery).toBe(10);
    expect(spec.batchSize).toBe(32);
    expect(spec.backend).toBe('auto');
    expect(spec.gate).toEqual({ beta: 4, eps: 0.1 });
    expect(spec.limits.maxTrials).toBe(5000);
    expect(spec.resources).toEqual({});
  });
});
