import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../common/errors.js';
import { defineCommand, parseCommandArgs, UsageError } from '../../cli/args.js';
import { run as coordinator } from '../../cli/commands/coordinator.js';
import { run as plot } from '../../cli/commands/plot.js';
import { run as runSweep } from '../../cli/commands/run.js';
import { run as status } from '../../cli/commands/status.js';
import { run as worker } from '../../cli/commands/worker.js';
import { BACKENDS } from '../../science/backend/backend-choice.js';
import { DATASETS } from '../../science/datasets/registry.js';
import { OPTIMIZERS } from '../../science/optimizers.js';
import { REGIMES } from '../../science/regimes.js';

const SPEC = defineCommand({
  command: 'demo',
  usage: 'usage: npf demo <file> [options]',
  flags: {
    name: { kind: 'string' },
    count: { kind: 'int', min: 1 },
    rate: { kind: 'number' },
    scale: { kind: 'number', above: 0, max: 10 },
    mode: { kind: 'string', choices: ['fast', 'slow'] },
    set: { kind: 'list' },
    plain: { kind: 'boolean' },
    out: { kind: 'string', required: true },
    'key-file': { kind: 'string' },
    key: { kind: 'string' },
  },
  positionals: { min: 1, max: 1, what: 'input file' },
  check: (v) => (v.key !== undefined && v['key-file'] !== undefined ? ['give --key or --key-file, not both'] : []),
});

function problemsOf(argv: string[]): readonly string[] {
  try {
    parseCommandArgs(SPEC, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as UsageError).problems;
  }
  throw new Error('expected a UsageError');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cli args - one parser for every command', () => {
  it('cli args - typed values from both flag forms, repeatable lists, negative numbers, and -- ending the flags', () => {
    const a = parseCommandArgs(SPEC, ['--name', 'x', '--count=3', '--rate', '-0.5', '--set', 'a=1', '--set=b=2', '--plain', '--out', 'o', '--', '--not-a-flag']);
    expect(a.help).toBe(false);
    expect(a.values).toEqual({ name: 'x', count: 3, rate: -0.5, set: ['a=1', 'b=2'], plain: true, out: 'o' });
    expect(a.positionals).toEqual(['--not-a-flag']);
  });

  it('cli args - -h or --help anywhere wins over everything else that is wrong', () => {
    expect(parseCommandArgs(SPEC, ['-h']).help).toBe(true);
    expect(parseCommandArgs(SPEC, ['--bogus', '--count', 'x', '--help']).help).toBe(true);
  });

  it('cli args - every problem is listed, each naming its flag and the value given', () => {
    expect(problemsOf(['--count', '0', '--rate', 'fast', '--mode', 'medium', '--scale', '0', '--plian', '--out'])).toEqual([
      "--count expects a whole number >= 1, got '0'",
      "--rate expects a number, got 'fast'",
      "--mode expects one of fast, slow, got 'medium'",
      "--scale expects a number > 0 and <= 10, got '0'",
      'unknown flag --plian (did you mean --plain?)',
      '--out needs a value',
      'expected one input file, got 0',
    ]);
    const err = (() => {
      try {
        parseCommandArgs(SPEC, ['--count', '1.5', 'f', '--out', 'o', '--plain=yes']);
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(err?.message).toBe("npf demo: 2 problems with the arguments:\n  --count expects a whole number >= 1, got '1.5'\n  --plain takes no value");
  });

  it('cli args - one problem is one line; required flags, repeats, extra arguments and cross-flag checks', () => {
    expect(() => parseCommandArgs(SPEC, ['f'])).toThrow(new UsageError('demo', ['--out is required']));
    expect(new UsageError('demo', ['--out is required']).message).toBe('npf demo: --out is required');
    expect(problemsOf(['f', 'g', '--out', 'o', '--out', 'p'])).toEqual(['--out given twice', 'expected one input file, got 2']);
    expect(problemsOf(['f', '--out', 'o', '--key', 'k', '--key-file', 'kf'])).toEqual(['give --key or --key-file, not both']);
    expect(problemsOf(['f', '--out', '', '--name'])).toEqual(['--out needs a non-empty value', '--name needs a value']);
    const none = defineCommand({ command: 'none', usage: '', flags: {} });
    expect(() => parseCommandArgs(none, ['x'])).toThrow("npf none: unexpected argument 'x' (flags start with --)");
    const optional = defineCommand({ command: 'opt', usage: '', flags: {}, positionals: { min: 0, max: 1, what: 'sweep id' } });
    expect(() => parseCommandArgs(optional, ['a', 'b'])).toThrow('npf opt: expected at most one sweep id, got 2');
  });
});

describe('cli args - the commands use it', () => {
  it('cli args - --help prints the usage and exits 0 without doing anything', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    expect(await worker(['--help'])).toBe(0);
    expect(await coordinator(['-h'])).toBe(0);
    expect(await status(['--help'])).toBe(0);
    expect(out[0]).toMatch(/^usage: npf worker --coordinator HOST:PORT/);
    expect(out[1]).toMatch(/^usage: npf coordinator --data-dir DIR/);
    expect(out[2]).toMatch(/^usage: npf status/);
  });

  it('cli args - npf worker lists every bad flag at once, before contacting anyone', async () => {
    await expect(worker(['--cpus', 'many', '--concurrency', '0', '--backend', 'gpu'])).rejects.toThrow(
      new UsageError('worker', [
        "--cpus expects a number >= 0, got 'many'",
        "--concurrency expects a whole number >= 1, got '0'",
        "--backend expects one of auto, wasm, wasm-blas, cpu, tensorflow, tensorflow-gpu, webgpu, got 'gpu' (did you mean cpu?)",
        '--coordinator is required',
      ]),
    );
  });

  it('cli args - npf coordinator: required data dir, bounds, and the tls pair checked together', async () => {
    await expect(coordinator(['--lease-ttl-ms', '0'])).rejects.toThrow("npf coordinator: 2 problems with the arguments:\n  --lease-ttl-ms expects a whole number >= 1, got '0'\n  --data-dir is required");
    await expect(coordinator(['--data-dir', 'd', '--tls-cert', 'c.pem'])).rejects.toThrow('npf coordinator: give both --tls-cert and --tls-key, or neither');
  });

  it('cli args - npf run checks its flags before starting anything', async () => {
    await expect(runSweep(['--workers', '0', '--lease-ttl-ms', '100'])).rejects.toThrow(
      new UsageError('run', ["--workers expects a whole number >= 1, got '0'", "--lease-ttl-ms expects a whole number >= 300, got '100'", 'expected one sweep spec file, got 0']),
    );
  });

  it('cli args - npf plot and npf status name the flag or the argument', async () => {
    await expect(plot(['dir', '--scale', '11'])).rejects.toThrow("npf plot: --scale expects a number > 0 and <= 10, got '11'");
    await expect(status(['--jsn'])).rejects.toThrow('npf status: unknown flag --jsn (did you mean --json?)');
    await expect(status(['a', 'b'])).rejects.toThrow('npf status: expected at most one sweep (id or name), got 2');
  });

  it('cli args - an enum value close to a known one gets a did-you-mean, and a misspelt flag keeps its value', () => {
    expect(problemsOf(['f', '--out', 'o', '--mode', 'fsat'])).toEqual(["--mode expects one of fast, slow, got 'fsat' (did you mean fast?)"]);
    expect(problemsOf(['f', '--out', 'o', '--mode', 'zzzzzz'])).toEqual(["--mode expects one of fast, slow, got 'zzzzzz'"]);
    // '--cuont 3 f': 3 belongs to the misspelt flag (count takes a value), so f is the only positional.
    expect(problemsOf(['--cuont', '3', 'f', '--out', 'o'])).toEqual(['unknown flag --cuont (did you mean --count?)']);
    // '--plian f': plain takes no value, so f stays a positional.
    expect(problemsOf(['--plian', 'f', '--out', 'o'])).toEqual(['unknown flag --plian (did you mean --plain?)']);
  });

  it('cli args - npf train takes its enum values from the registries, with a did-you-mean', async () => {
    const { parseTrainFlags } = await import('../../cli/commands/train.js');
    const err = (() => {
      try {
        parseTrainFlags(['--regime', 'dnpf', '--dataset', 'mnsit', '--backend', 'wsam', '--optimizer', 'adma']);
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(err?.problems).toEqual([
      `--regime expects one of ${REGIMES.join(', ')}, got 'dnpf' (did you mean dnpfl?)`,
      `--dataset expects one of ${DATASETS.join(', ')}, got 'mnsit' (did you mean mnist?)`,
      `--backend expects one of ${BACKENDS.join(', ')}, got 'wsam' (did you mean wasm?)`,
      `--optimizer expects one of ${OPTIMIZERS.join(', ')}, got 'adma' (did you mean adam?)`,
    ]);
  });
});
