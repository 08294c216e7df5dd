import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../common/errors.js';
import { gatesFromFlags, parseCheckpointList, parseTrainFlags, progressPrinter, run, specFromFlags } from '../../cli/commands/train.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'npf-cli-train-'));

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('train - npf train flags', () => {
  it('train - unknown flags get a suggestion; bad numbers name the flag and the value', () => {
    expect(errorOf(() => parseTrainFlags(['--epoch', '3']))).toMatch(/unknown flag --epoch \(did you mean --epochs\?\)/);
    expect(errorOf(() => parseTrainFlags(['--lr', 'fast']))).toMatch(/--lr expects a number, got 'fast'/);
    expect(errorOf(() => parseTrainFlags(['--epochs', '1.5']))).toMatch(/--epochs expects a whole number, got '1.5'/);
    expect(errorOf(() => parseTrainFlags(['--seed']))).toMatch(/--seed needs a value/);
    expect(errorOf(() => parseTrainFlags(['mnist']))).toMatch(/unexpected argument 'mnist'/);
    expect(parseTrainFlags(['--lr=3e-4', '--epochs', '2'])).toEqual({ lr: 3e-4, epochs: 2 });
  });

  it('train - flags build a resolved spec with the documented defaults; invalid values name the field', () => {
    const s = specFromFlags(parseTrainFlags(['--regime', 'dnpfl', '--optimizer', 'sgd', '--train-per-class', '20', '--checkpoints', 'best,final,best@10']));
    expect(s.dataset).toEqual({ name: 'mnist', trainSubset: { perClass: 20 } });
    expect(s.arch).toEqual({ kind: 'fc', width: 128, depth: 5, bias: true });
    expect(s.optimizer).toEqual({ name: 'sgd', lr: 1e-2 });
    expect(s).toMatchObject({ regime: 'dnpfl', epochs: 1, batchSize: 32, seed: 0, backend: 'auto', loss: 'cross-entropy', gate: { beta: 4, eps: 0.1 } });
    expect(s.checkpoints).toEqual({ best: true, final: true, bestAtEpochs: [10] });
    expect(errorOf(() => specFromFlags(parseTrainFlags(['--regime', 'frnpf'])))).toMatch(/regime/);
    expect(errorOf(() => specFromFlags(parseTrainFlags(['--lr', '-1'])))).toMatch(/optimizer\.lr/);
    expect(errorOf(() => parseCheckpointList('best,last'))).toMatch(/'last'/);
    const gatesOf = (argv: string[]) => {
      const flags = parseTrainFlags(argv);
      return gatesFromFlags(flags, specFromFlags(flags));
    };
    expect(errorOf(() => gatesOf(['--regime', 'flnpf', '--gates-from', '/nonexistent/x.npfckpt']))).toMatch(/nonexistent/);
    expect(errorOf(() => gatesOf(['--regime', 'stage', '--stage', '2']))).toBe("train: regime 'stage' needs --gates-from: the ReLU run's 'best@20' checkpoint");
    expect(errorOf(() => gatesOf(['--regime', 'relu', '--gates-from', '/x.npfckpt', '--gates-sha256', 'a'.repeat(64)]))).toBe('train: --regime relu takes no gates: --gates-from is for flnpf and stage k >= 1');
    // Refused for the regime before the file is read (a missing file is not the problem).
    expect(errorOf(() => gatesOf(['--regime', 'dnpfl', '--gates-from', '/nonexistent/x.npfckpt']))).toBe('train: --regime dnpfl takes no gates: --gates-from is for flnpf and stage k >= 1');
    expect(errorOf(() => gatesOf(['--regime', 'stage', '--stage', '0', '--gates-from', '/nonexistent/x.npfckpt']))).toMatch(/^train: --regime stage --stage 0 takes no gates/);
    expect(gatesOf(['--regime', 'flnpf', '--gates-from', '/x.npfckpt', '--gates-sha256', 'a'.repeat(64)])).toEqual({ path: '/x.npfckpt', sha256: 'a'.repeat(64) });
    expect(gatesOf(['--regime', 'dnpfl'])).toBeUndefined();
  });

  it('train - --checkpoint-every writes the best@k checkpoints that --regime stage --stage-every reads', () => {
    const relu = specFromFlags(parseTrainFlags(['--regime', 'relu', '--epochs', '6', '--checkpoint-every', '2', '--checkpoints', 'final,best@3']));
    expect(relu.checkpoints).toEqual({ final: true, bestAtEpochs: [2, 3, 4, 6] });
    expect(errorOf(() => specFromFlags(parseTrainFlags(['--epochs', '2', '--checkpoint-every', '3'])))).toMatch(/--checkpoint-every 3 is more than --epochs 2/);
    const flags = parseTrainFlags(['--regime', 'stage', '--stage', '2', '--stage-every', '2', '--gates-from', '/x.npfckpt', '--gates-sha256', 'b'.repeat(64)]);
    const stage = specFromFlags(flags);
    expect(stage).toMatchObject({ regime: 'stage', stage: 2, stageEvery: 2 });
    expect(gatesFromFlags(flags, stage)).toEqual({ path: '/x.npfckpt', sha256: 'b'.repeat(64) });
    expect(errorOf(() => gatesFromFlags(parseTrainFlags(['--regime', 'stage', '--stage', '3', '--stage-every', '2']), specFromFlags(parseTrainFlags(['--regime', 'stage', '--stage', '3', '--stage-every', '2']))))).toMatch(/'best@6' checkpoint/);
  });

  it('train - a YAML spec is validated, and flags override it', () => {
    const d = dir();
    const file = join(d, 'trial.yaml');
    writeFileSync(file, 'dataset: {name: fashion-mnist}\nregime: frnpf-ii\noptimizer: {name: adam, lr: 0.001}\nepochs: 7\nseed: 3\narch: {kind: fc, width: 64, depth: 2}\n');
    const s = specFromFlags(parseTrainFlags(['--spec', file, '--epochs', '2', '--width', '32']));
    expect(s).toMatchObject({ regime: 'frnpf-ii', epochs: 2, seed: 3, optimizer: { name: 'adam', lr: 0.001 }, arch: { kind: 'fc', width: 32, depth: 2 } });
    expect(s.dataset.name).toBe('fashion-mnist');
    const bad = join(d, 'bad.yaml');
    writeFileSync(bad, 'dataset: {name: mnist}\nregime: relu\noptimizer: {name: adam, lr: 0.001}\nepochs: zero\nseed: 1\n');
    expect(errorOf(() => specFromFlags(parseTrainFlags(['--spec', bad])))).toMatch(new RegExp(`${bad}.*epochs`));
    expect(errorOf(() => specFromFlags(parseTrainFlags(['--spec', join(d, 'missing.yaml')])))).toMatch(/missing\.yaml: cannot read/);
  });

  it('train - progress: plain per-epoch lines when stderr is not a TTY, a bar when it is', () => {
    const out: string[] = [];
    const plain = progressPrinter((s) => out.push(s), false, 2);
    plain({ kind: 'step', epoch: 1, step: 10, stepsPerEpoch: 20, loss: 0.5 });
    plain({ kind: 'epoch', record: { epoch: 1, trainLoss: 0.5, testLoss: 0.4, testAccuracy: 0.9, examplesPerSec: 1000, durationMs: 1500 } });
    expect(out).toEqual(['epoch 1/2  train loss 0.5000  test loss 0.4000  test acc 90.00%  1000 ex/s  1.5 s\n']);
    const tty: string[] = [];
    const bar = progressPrinter((s) => tty.push(s), true, 2);
    bar({ kind: 'step', epoch: 1, step: 10, stepsPerEpoch: 20, loss: 0.5 });
    expect(tty[0]).toContain('[###############...............] 10/20');
  });

  it('train - run: exit code 2 with one error line for bad input; one JSON line on stdout for a trial', async () => {
    const errs: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((s: string) => void errs.push(s));
    expect(await run(['--batch-size', 'big'])).toBe(2);
    expect(errs).toEqual(["npf train: --batch-size expects a number, got 'big'"]);

    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (stdout.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await run(['--train-subset', '64', '--test-subset', '64', '--width', '8', '--depth', '1', '--backend', 'wasm', '--seed', '4']);
    expect(code).toBe(0);
    expect(stdout.length).toBe(1);
    const result = JSON.parse(stdout[0]) as { status: string; backend: string; epochs: unknown[] };
    expect(result).toMatchObject({ status: 'succeeded', backend: 'wasm' });
    expect(result.epochs.length).toBe(1);
  });
});
