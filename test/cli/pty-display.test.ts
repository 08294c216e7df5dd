/**
 * The live display in a real pseudo-terminal of fixed size (util-linux `script` gives the
 * command a pty; `stty` sets its columns and rows): npf run's redrawn block fits the width (no
 * line wraps), shows the epoch in progress (never 'epoch 0'), and leaves no stale line behind;
 * npf status's trial table is cut to the width. The screen is replayed by test/cli/term-screen.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E, NPF, fakeSweepYaml } from '../e2e/harness.js';
import { TermScreen } from './term-screen.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

let env: E2E;
beforeAll(() => {
  env = new E2E('pty');
});
afterAll(async () => {
  await env.killAll();
});

/** Run `node bin/npf.js <args>` in a pty of `cols` x `rows`; everything the terminal received. */
function inPty(args: string, cols: number, rows: number, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; raw: string }> {
  const cmd = `stty cols ${cols} rows ${rows}; exec node ${NPF} ${args}`;
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: env.dir, env: { ...process.env, ...extraEnv, TERM: 'xterm' }, stdio: ['ignore', 'pipe', 'pipe'] });
  env.procs.push({ name: 'script', child, pid: child.pid!, out: '', err: '', exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))) });
  let raw = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (raw += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, raw })));
}

describe.skipIf(!hasScript)('pty display - a terminal of fixed width', () => {
  it('pty display - npf run: the block fits 60 columns, shows epoch 1/4 from the start, and leaves no stale line', async () => {
    const spec = env.write('pty.yaml', fakeSweepYaml('pty-run', 2, 4));
    const { code, raw } = await inPty(`run ${spec} --workers 2 --data-dir ${env.path('state')}`, 60, 12, { NPF_TRIAL_RUNNER: 'fake-sleep', NPF_FAKE_EPOCH_MS: '400' });
    expect(code, raw).toBe(0);
    // The block was drawn (so what follows tests something), with the epoch in progress.
    expect(raw).toMatch(/pty-run: \d\/6 done \| elapsed/);
    expect(raw).toMatch(/: epoch 1\/4/);
    expect(raw).not.toMatch(/epoch 0\b/);
    const screen = new TermScreen(60);
    screen.feed(raw);
    // No line of the block ever wrapped (a wrapped line would not be cleared by its redraw).
    expect(screen.wrapped.filter((l) => / done \| elapsed|: epoch \d/.test(l))).toEqual([]);
    // After the run: the summary and the table, no leftover of the block.
    const shown = screen.text();
    expect(shown.filter((l) => / done \| elapsed|^ {2}\S.*: epoch \d/.test(l))).toEqual([]);
    expect(shown.join('\n')).toMatch(/npf run: 6 of 6 trials finished/);
  });

  it('pty display - npf status <sweep>: the trial table is cut to a 50-column terminal', async () => {
    const { code, raw } = await inPty(`status pty-run --data-dir ${env.path('state')}`, 50, 30);
    expect(code, raw).toBe(0);
    const screen = new TermScreen(50);
    screen.feed(raw);
    const table = screen.text().slice(screen.text().findIndex((l) => l.startsWith('trial ')));
    expect(table.length).toBe(7);
    expect(screen.wrapped.filter((l) => table.some((t) => t.startsWith(l.trimEnd().slice(0, 20))))).toEqual([]);
    expect(table.every((l) => l.length <= 50)).toBe(true);
  });
});
