/**
 * The everyday workflow, driving the real binary: a local run directory you can list and query
 * offline (npf ls, status, results, watch, plot), also while npf run writes it; the sweep's
 * folder (name link, sweep.json, spec.resolved.yaml, tidy CSVs); npf cancel of single trials and
 * of a live run's sweep; npf results --out and npf plot after npf submit to a coordinator.
 * Trainer: the fake-sleep test double (these tests are about the workflow, not learning).
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import { csvRecords } from '../results/csv-strict.js';
import { E2E, fakeSweepYaml, freePort, waitFor } from './harness.js';

let env: E2E | undefined;
let coord: RunningCoordinator | undefined;
afterEach(async () => {
  await env?.killAll();
  await coord?.stop();
  env = undefined;
  coord = undefined;
});

const FAKE = { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '20' };

/** Run `npf <args>` to its end; its exit code, stdout and stderr. */
async function npf(e: E2E, args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const p = e.npf(`npf-${args[0]}`, args, extra);
  const { code } = await p.exited;
  return { code, out: p.out, err: p.err };
}

describe('e2e local workflow', () => {
  it('e2e - a finished local run is listed and queried offline: ls, status, results (every format, --out), watch, plot; its folder names it', async () => {
    env = new E2E('local');
    const spec = env.write('sweep.yaml', fakeSweepYaml('workflow', 2, 2));
    const state = env.path('state');
    const run = await npf(env, ['run', spec, '--workers', '2', '--data-dir', state, '--plain'], FAKE);
    expect(run.code, run.err).toBe(0);
    const sweepId = /sweep workflow \((sw-[0-9a-f]{12})\)/.exec(run.err)![1];
    expect(existsSync(join(state, 'run.json'))).toBe(false);

    // The folder: a link by name, sweep.json, the resolved spec, one CSV per table.
    const folder = join(state, 'sweeps', sweepId);
    expect(readlinkSync(join(state, 'sweeps', 'workflow'))).toBe(sweepId);
    expect(JSON.parse(readFileSync(join(folder, 'sweep.json'), 'utf8'))).toMatchObject({ sweepId, name: 'workflow', state: 'complete', fileName: spec });
    expect(readFileSync(join(folder, 'spec.resolved.yaml'), 'utf8')).toMatch(/^# Sweep 'workflow' \(sw-[0-9a-f]{12}\)[^\n]*\nname: workflow\n[\s\S]*seedCount: 2\n[\s\S]*checkpointEvery: 10\n/);
    const trials = csvRecords(readFileSync(join(folder, 'trials.csv'), 'utf8'));
    expect(trials).toHaveLength(6);
    expect(trials.every((t) => t.status === 'succeeded' && t.backend === 'fake' && Number(t.best_test_accuracy_pct) > 0 && t.epochs_run === '2')).toBe(true);
    const epochs = csvRecords(readFileSync(join(folder, 'epochs.csv'), 'utf8'));
    expect(epochs).toHaveLength(12);
    expect(new Set(epochs.map((e) => e.trial_id))).toEqual(new Set(trials.map((t) => t.trial_id)));
    expect(readFileSync(join(folder, 'results.csv'), 'utf8').split('\n')[0]).toMatch(/^dataset,arch,optimizer,regime,lr,mean,/);
    expect(existsSync(join(folder, 'figures', 'trial-curves.png'))).toBe(true);

    // Offline, from the directory: no coordinator runs now.
    const ls = await npf(env, ['ls', '--data-dir', state]);
    expect(ls.code, ls.err).toBe(0);
    expect(ls.out).toMatch(/^NAME +ID +STATE +DONE +RUNNING +PENDING +BLOCKED +FAILED +CANCELLED +SUBMITTED\n/);
    expect(ls.out).toMatch(new RegExp(`\\nworkflow +${sweepId} +complete +6/6 +0 +0 +0 +0 +0 +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\n`));
    const st = await npf(env, ['status', 'workflow', '--data-dir', state]);
    expect(st.out).toMatch(new RegExp(`^${sweepId} +workflow +complete +6/6 done`));
    const md = await npf(env, ['results', sweepId.slice(3, 9), '--data-dir', state]);
    expect(md.out).toBe(readFileSync(join(folder, 'results.md'), 'utf8'));
    const tcsv = await npf(env, ['results', 'workflow', '--data-dir', state, '--format', 'trials']);
    expect(tcsv.out).toBe(readFileSync(join(folder, 'trials.csv'), 'utf8'));
    const w = await npf(env, ['watch', 'workflow', '--data-dir', state]);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toMatch(/sweep complete: 6 succeeded, 0 failed, 0 cancelled\n$/);
    const out = env.path('copy');
    const r = await npf(env, ['results', 'workflow', '--data-dir', state, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/8 file\(s\) of sweep workflow .*: sweep\.json, spec\.resolved\.yaml, results\.md, results\.csv, results\.tex, results\.json, trials\.csv, epochs\.csv/);
    expect(readFileSync(join(out, 'trials.csv'), 'utf8')).toBe(readFileSync(join(folder, 'trials.csv'), 'utf8'));
    const plot = await npf(env, ['plot', out]);
    expect(plot.code, plot.err).toBe(0);
    expect(plot.err).toMatch(/npf plot: 2 figures from .*figures-input\.json/);
    const plotByName = await npf(env, ['plot', 'workflow', '--data-dir', state]);
    expect(plotByName.code, plotByName.err).toBe(0);

    // A directory with nothing in it, and a sweep that is not there.
    const none = await npf(env, ['ls', '--data-dir', env.path('nowhere')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^npf ls: no npf state at .*nowhere\/npf\.db: nothing has run there/);
    const unknown = await npf(env, ['results', 'nope', '--data-dir', state]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain(`npf results: no sweep 'nope' in ${state}; its sweeps: workflow (${sweepId}) (npf ls lists them)`);
  });

  it('e2e - a live run is read beside its writer and attached with --listen; npf cancel stops single trials, then the sweep, shown as cancelled everywhere', async () => {
    env = new E2E('cancel');
    const spec = env.write('sweep.yaml', fakeSweepYaml('cancelme', 2, 300));
    const state = env.path('state');
    const address = `127.0.0.1:${await freePort()}`;
    const run = env.npf('npf-run', ['run', spec, '--workers', '1', '--data-dir', state, '--plain', '--listen', address], { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '100' });
    await waitFor(() => / {2}leased to /.test(run.err), 'a first trial to be leased', 60_000, [run]);
    expect(run.err).toContain(`npf run: coordinator on ${address} (attach: npf status --coordinator ${address} --token-file ${join(state, 'run.token')})`);

    // Read-only beside the live writer, and attached through its gRPC address.
    const ls = await npf(env, ['ls', '--data-dir', state]);
    // One or two trials run by now (the worker's concurrency), depending on when it leased the second.
    expect(ls.out).toMatch(/\ncancelme +sw-[0-9a-f]{12} +running +0\/6 +[12] /);
    const attached = await npf(env, ['status', '--coordinator', address, '--token-file', join(state, 'run.token')]);
    expect(attached.code, attached.err).toBe(0);
    expect(attached.out).toMatch(/cancelme +running +0\/6 done/);

    // A watcher following the live run from the directory (polling the store read-only).
    const watcher = env.npf('npf-watch-live', ['watch', 'cancelme', '--data-dir', state]);

    // Cancel one trial that has not started, by its id prefix.
    const pending = csvRecords((await npf(env, ['results', 'cancelme', '--data-dir', state, '--format', 'trials'])).out).filter((t) => t.status === 'pending' && t.regime === 'frnpf-ii');
    const one = await npf(env, ['cancel', 'cancelme', '--data-dir', state, '--trial', pending[0].trial_id.slice(0, 8)]);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/^cancelled 1 of the 1 trial\(s\) named of sweep cancelme \(sw-[0-9a-f]{12}\); it is now running\n/);
    await waitFor(() => run.err.includes('  cancelled: trial cancelled on request'), 'the run to see the cancel', 20_000, [run]);

    // Then the whole sweep, through the live run: its workers stop, and the run ends.
    const all = await npf(env, ['cancel', 'cancelme', '--data-dir', state]);
    expect(all.code, all.err).toBe(0);
    expect(all.out).toMatch(/^cancelled 5 unfinished trial\(s\) of sweep cancelme \(sw-[0-9a-f]{12}\); it is now cancelled\n/);
    const exit = await run.exited;
    expect(exit.code, run.err).toBe(1);
    expect(run.err).toMatch(/sweep cancelled: cancelled on request/);
    expect(run.out).toMatch(/6 cancelled|cancelled/);

    // The live watcher saw the cancels as they happened and ended with the sweep.
    expect((await watcher.exited).code, watcher.err).toBe(1);
    expect(watcher.out).toMatch(/cancelled: trial cancelled on request\n[\s\S]*sweep cancelled: cancelled on request\n$/);

    const after = await npf(env, ['ls', '--data-dir', state]);
    expect(after.out).toMatch(/\ncancelme +sw-[0-9a-f]{12} +cancelled +0\/6 +0 +0 +0 +0 +6 /);
    const rows = csvRecords((await npf(env, ['results', 'cancelme', '--data-dir', state, '--format', 'trials'])).out);
    expect(rows.map((t) => t.status)).toEqual(Array(6).fill('cancelled'));
    const w = await npf(env, ['watch', 'cancelme', '--data-dir', state, '--from-start']);
    expect(w.code).toBe(1);
    expect(w.out).toMatch(/cancelled: trial cancelled on request/);
    expect(w.out).toMatch(/sweep cancelled: cancelled on request\n$/);
  });

  it('e2e - after npf submit to a coordinator: ls, results --out and plot of that folder', async () => {
    env = new E2E('submit');
    const token = 'e2e-token';
    coord = await startCoordinator({ dataDir: env.path('coord'), grpcListen: '127.0.0.1:0', httpListen: null, token, log: () => {} });
    const conn = ['--coordinator', coord.grpcAddress, '--token', token];
    const spec = env.write('sweep.yaml', fakeSweepYaml('remote', 1, 2));
    const sub = await npf(env, ['submit', spec, ...conn]);
    expect(sub.code, sub.err).toBe(0);
    const sweepId = /^submitted (sw-[0-9a-f]{12})/.exec(sub.out)![1];
    // The hint repeats the coordinator (npf watch without one reads ./.npf), never the token.
    expect(sub.out).toContain(`follow it: npf watch ${sweepId} --coordinator ${coord.grpcAddress}\n`);
    expect(sub.out).not.toContain(token);
    // No worker yet: status says so, and lists the waiting trials by label.
    const idle = await npf(env, ['status', sweepId, ...conn]);
    expect(idle.code, idle.err).toBe(0);
    expect(idle.out).toMatch(/\nwarning: no worker is connected: no trial is running though 3 wait/);
    expect(idle.out).toMatch(/\nrelu fc sgd 0\.01 seed 0 +pending\n/);
    env.worker('w1', coord.grpcAddress, { ...FAKE, NPF_TOKEN: token });
    const w = await npf(env, ['watch', 'remote', ...conn]);
    expect(w.code, w.err).toBe(0);
    const ls = await npf(env, ['ls', ...conn]);
    expect(ls.out).toMatch(new RegExp(`\\nremote +${sweepId} +complete +3/3 `));
    const out = env.path('fetched');
    const r = await npf(env, ['results', sweepId, ...conn, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'))).toMatchObject({ sweepId, name: 'remote', state: 'complete', fileName: spec });
    expect(readFileSync(join(out, 'spec.resolved.yaml'), 'utf8')).toMatch(/\nname: remote\n/);
    expect(csvRecords(readFileSync(join(out, 'trials.csv'), 'utf8'))).toHaveLength(3);
    const plot = await npf(env, ['plot', out]);
    expect(plot.code, plot.err).toBe(0);
    expect(existsSync(join(out, 'figures', 'table2.svg'))).toBe(true);
  });
});
