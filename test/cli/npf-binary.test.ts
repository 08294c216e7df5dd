/**
 * The CLI's consistency, driving the real binary (bin/npf.js over dist/, built by `npm test`):
 * -h/--help on every command, npf help <cmd>, npf --version, did-you-mean for commands, flags
 * and enum values, every problem listed in one message style (exit code 2, no stack), --set
 * problems named by the --set, a key at the wrong level placed, --gates-from refused for a
 * regime without gates; and the monitoring commands on a finished local run: status <sweep>
 * with labels, logs <trial>, watch into a closed pipe.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/command-table.js';
import { DATASETS } from '../../science/datasets/registry.js';
import { REGIMES } from '../../science/regimes.js';
import { E2E, NPF, ROOT, fakeSweepYaml } from '../e2e/harness.js';

let env: E2E;
beforeAll(() => {
  env = new E2E('cli-binary');
});
afterAll(async () => {
  await env.killAll();
});

async function npf(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const p = env.npf(`npf-${args[0] ?? 'none'}`, args, extra);
  const { code } = await p.exited;
  return { code, out: p.out, err: p.err };
}

/** A bad-input run: exit code 2, nothing on stdout, one message on stderr without a stack. */
async function refused(args: string[]): Promise<string> {
  const r = await npf(args);
  expect(r.code, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).not.toMatch(/\n\s+at |node:internal|TypeError|ERR_PARSE_ARGS/);
  return r.err;
}

describe('npf binary - one consistent CLI', () => {
  it('npf binary - -h and --help on every command, npf help <cmd> the same, npf --version from package.json', async () => {
    const names = Object.keys(COMMANDS);
    const short = await Promise.all(names.map((name) => npf([name, '-h'])));
    names.forEach((name, i) => {
      expect(short[i].code, `${name} -h: ${short[i].err}`).toBe(0);
      expect(short[i].out).toMatch(new RegExp(`^usage: npf ${name}\\b`));
    });
    // --help and help <cmd> go through the same parser and router: two commands show it.
    for (const name of ['run', 'logs']) {
      expect((await npf([name, '--help'])).out).toBe(short[names.indexOf(name)].out);
      expect((await npf(['help', name])).out).toBe(short[names.indexOf(name)].out);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await npf(['--version'])).out).toBe(`npf ${pkg.version}\n`);
    const top = await npf(['help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/^usage: npf <command>/);
  });

  it('npf binary - did-you-mean for commands, flags and enum values, every problem listed', async () => {
    expect(await refused(['trian'])).toBe("npf: unknown command 'trian' (did you mean train?); npf help lists the commands\n");
    expect(await refused(['help', 'stauts'])).toMatch(/did you mean status\?/);
    expect(await refused(['run', '--wokers', '2', 'x.yaml'])).toBe('npf run: unknown flag --wokers (did you mean --workers?)\n');
    expect(await refused(['train', '--regime', 'dnpf', '--dataset', 'mnsit', '--epochs', '0.5'])).toBe(
      [
        'npf train: 3 problems with the arguments:',
        `  --regime expects one of ${REGIMES.join(', ')}, got 'dnpf' (did you mean dnpfl?)`,
        `  --dataset expects one of ${DATASETS.join(', ')}, got 'mnsit' (did you mean mnist?)`,
        "  --epochs expects a whole number, got '0.5'",
        '',
      ].join('\n'),
    );
    expect(await refused(['worker', '--coordinator', 'h:1', '--backend', 'wsam'])).toMatch(/^npf worker: --backend expects one of auto, wasm, .*got 'wsam' \(did you mean wasm\?\)\n$/);
    expect(await refused(['results', 'x', '--format', 'trails'])).toMatch(/got 'trails' \(did you mean trials\?\)/);
    expect(await refused(['train', '--regime', 'relu', '--gates-from', 'nowhere.npfckpt'])).toBe('npf train: --regime relu takes no gates: --gates-from is for flnpf and stage k >= 1\n');
  });

  it('npf binary - sweep spec problems all listed; a --set problem names the --set; a misplaced key says where it belongs', async () => {
    const spec = env.write('misplaced.yaml', `${fakeSweepYaml('placed', 1, 1).replace('  seedCount: 1\n', '  seeds: [0]\n')}seedCount: 2\n`);
    const misplaced = await refused(['submit', spec, '--coordinator', '127.0.0.1:1']);
    expect(misplaced).toMatch(new RegExp(`^npf submit: ${spec}:\\d+:1: seedCount: unknown key 'seedCount' \\(it belongs under axes\\) \\(allowed: `));
    const good = env.write('good.yaml', fakeSweepYaml('good', 1, 1));
    const sets = await refused(['submit', good, '--coordinator', '127.0.0.1:1', '--set', 'epochs=abc', '--set', 'axes.regimes[0]=dnpf', '--set', 'lrs=[1]']);
    expect(sets.split('\n')).toEqual([
      'npf submit: 3 problems in the sweep spec:',
      expect.stringMatching(/^ {2}--set axes\.regimes\[0\]=dnpf: axes\.regimes\[0\]: unknown regime 'dnpf' \(did you mean 'dnpfl'\?\)/),
      '  --set epochs=abc: epochs: expected number, got string "abc"',
      expect.stringMatching(/^ {2}--set lrs=\[1\]: lrs: unknown key 'lrs' \(it belongs in each entry of axes\.optimizers\)/),
      '',
    ]);
    expect(sets).not.toMatch(/more problem/);
  });

  it('npf binary - a trial spec file: every problem at file:line:column, a flag override named by its flag', async () => {
    const bad = env.write('trial.yaml', 'dataset: {name: mnsit}\nregime: relu\noptimizer: {name: adam, lr: 0.001}\nepochs: zero\nseed: 1\nlr: 3\n');
    const err = await refused(['train', '--spec', bad, '--batch-size', '0']);
    expect(err).toMatch(/^npf train: /);
    expect(err).toContain(`${bad}:1:17: dataset.name: unknown value 'mnsit' (did you mean 'mnist'?)`);
    expect(err).toContain(`${bad}:4:9: epochs: expected number, got string "zero"`);
    expect(err).toContain(`${bad}:6:1: lr: unknown key 'lr' (it belongs under optimizer)`);
    expect(err).toContain('--batch-size: batchSize: must be > 0, got 0');
  });
});

describe('npf binary - monitoring a finished local run', () => {
  const FAKE = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '20', NPF_FAKE_FAIL_REGIME: 'frnpf-ii' };
  let state: string;

  beforeAll(async () => {
    state = env.path('state');
    const spec = env.write('mon.yaml', fakeSweepYaml('mon', 1, 2));
    const run = await npf(['run', spec, '--workers', '2', '--data-dir', state, '--plain'], FAKE);
    expect(run.code, run.err).toBe(1); // the frnpf-ii trial fails on purpose
  });

  it('npf binary - status <sweep> lists the trials by label with state, attempt, worker, epochs, best accuracy', async () => {
    const st = await npf(['status', 'mon', '--data-dir', state]);
    expect(st.code, st.err).toBe(0);
    const lines = st.out.split('\n');
    expect(lines[0]).toMatch(/^sw-[0-9a-f]{12} +mon +failed +2\/3 done/);
    expect(lines).toContainEqual(expect.stringMatching(/^trial +state +try +worker +epoch +best acc +eta$/));
    expect(lines).toContainEqual(expect.stringMatching(/^relu fc sgd 0\.01 seed 0 +succeeded +1 +\S+ +2\/2 epochs +\d+\.\d\d% +took /));
    expect(lines).toContainEqual(expect.stringMatching(/^frnpf-ii fc sgd 0\.01 seed 0 +failed +1 +\S+/));
    expect(st.out).not.toMatch(/[0-9a-f]{40}/);
  });

  it('npf binary - logs <trial> by label: its events, the whole failure message, its workers\' lines', async () => {
    const lg = await npf(['logs', 'frnpf-ii fc sgd 0.01 seed 0', '--data-dir', state]);
    expect(lg.code, lg.err).toBe(0);
    expect(lg.out).toMatch(/^trial [0-9a-f]{64}\n {2}frnpf-ii fc sgd 0\.01 seed 0\n\nevents:\n/);
    expect(lg.out).toMatch(/leased to \S+ \(attempt 1\)/);
    expect(lg.out).toMatch(/FAILED \(attempt 1\): .*fails on purpose/);
    expect(lg.out).toMatch(/worker and coordinator lines \(logs\/run\.log\):\n {2}npf worker \S+: task [0-9a-f]{12} attempt 1: started/);
    expect(await refused(['logs', 'nothing-like-it', '--data-dir', state])).toMatch(/^npf logs: no trial 'nothing-like-it' in /);
  });

  it('npf binary - watch into a pipe whose reader has gone exits quietly (no EPIPE stack), status too', async () => {
    // `true` exits without reading: every write of npf meets a closed pipe.
    // watch's own code is 1: the sweep it followed ended with a failed trial.
    for (const [cmd, want] of [[`watch mon --from-start --data-dir ${state}`, 1], [`status mon --data-dir ${state}`, 0]] as const) {
      const child = spawn('bash', ['-c', `set -o pipefail; node ${NPF} ${cmd} | true`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(err, cmd).toBe('');
      expect(code, cmd).toBe(want);
    }
  });
});
