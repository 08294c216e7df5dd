import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, route, unknownCommand, usage, version } from '../../cli/command-table.js';
import { connectionHint } from '../../cli/connection.js';
import { findTrial, trialLog } from '../../cli/trial-log.js';
import { readCsv } from '../../cli/read-csv.js';
import type { PrintableEvent } from '../../events/format-event.js';

describe('cli commands - routing, help, version, hints', () => {
  it('cli commands - help <cmd> is <cmd> --help; --version and -V; no command prints the usage with code 2', () => {
    expect(route(['help', 'run'])).toEqual({ command: 'run', rest: ['--help'] });
    expect(route(['run', 'x.yaml'])).toEqual({ command: 'run', rest: ['x.yaml'] });
    expect(route(['--version'])).toEqual({ print: 'version', code: 0 });
    expect(route(['-V'])).toEqual({ print: 'version', code: 0 });
    expect(route(['help'])).toEqual({ print: 'usage', code: 0 });
    expect(route([])).toEqual({ print: 'usage', code: 2 });
    expect(route(['help', 'trian'])).toEqual({ unknown: 'trian' });
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(version()).toBe(pkg.version);
    for (const name of Object.keys(COMMANDS)) expect(usage()).toContain(`  ${name} `);
  });

  it('cli commands - an unknown command gets a did-you-mean', () => {
    expect(unknownCommand('trian')).toBe("npf: unknown command 'trian' (did you mean train?); npf help lists the commands");
    expect(unknownCommand('stauts')).toMatch(/did you mean status\?/);
    expect(unknownCommand('xyzzy')).toBe("npf: unknown command 'xyzzy'; npf help lists the commands");
  });

  it("cli commands - submit's hint repeats the coordinator and the token/TLS files, never a token", () => {
    expect(connectionHint({ coordinator: '10.0.0.1:7070', token: 'secret', 'token-file': '/t' }, {})).toBe(' --coordinator 10.0.0.1:7070 --token-file /t');
    expect(connectionHint({ tls: true, 'tls-ca': 'ca.pem' }, {})).toBe(' --coordinator 127.0.0.1:7070 --tls --tls-ca ca.pem');
    expect(connectionHint({}, { NPF_COORDINATOR: 'c:1' })).toBe('');
  });
});

describe('npf logs - a trial found by id, prefix or label, and its log', () => {
  const A = `abcdef${'0'.repeat(58)}`;
  const B = `abcdff${'1'.repeat(58)}`;
  const trials = [
    { taskId: A, label: 'relu fc adam 0.001 seed 0' },
    { taskId: B, label: 'dnpfl fc adam 0.001 seed 0' },
  ];

  it('npf logs - id, unique prefix or label; an ambiguous prefix lists the candidates', () => {
    expect(findTrial(trials, 'abcdef0')).toEqual({ found: trials[0] });
    expect(findTrial(trials, 'dnpfl fc adam 0.001 seed 0')).toEqual({ found: trials[1] });
    expect(findTrial(trials, 'abcd')).toEqual({ none: true });
    expect(findTrial([...trials, { taskId: `abcdef${'2'.repeat(58)}`, label: 'x' }], 'abcdef')).toMatchObject({ ambiguous: [expect.anything(), expect.anything()] });
  });

  it("npf logs - the trial's events with whole failure messages, then its run.log lines", () => {
    const e = (type: string, timeMs: number, payload: Record<string, unknown>) => ({ sweepId: 's', taskId: A, type, timeMs, payload }) as unknown as PrintableEvent;
    const log = trialLog(trials[0], [
      e('task.leased', Date.UTC(2026, 0, 1, 10, 0, 0), { workerId: 'w1', attempt: 1 }),
      e('task.retried', Date.UTC(2026, 0, 1, 10, 0, 5), { attempt: 1, nextAttempt: 2, reason: 'crash', message: 'trial process crashed with exit code 1\nError: boom\n    at x.js:1' }),
      { sweepId: 's', taskId: B, type: 'task.leased', timeMs: 0, payload: { workerId: 'w9', attempt: 1 } } as unknown as PrintableEvent,
    ], ['2026 npf worker w1: task abcdef000000 attempt 1: started (pid 7)', 'unrelated line']);
    expect(log).toEqual([
      `trial ${A}`,
      '  relu fc adam 0.001 seed 0',
      '',
      'events:',
      '  10:00:00  leased to w1 (attempt 1)',
      '  10:00:05  retry: attempt 1 crash (trial process crashed with exit code 1); attempt 2',
      '    | Error: boom',
      '    |     at x.js:1',
      '',
      'worker and coordinator lines (logs/run.log):',
      '  2026 npf worker w1: task abcdef000000 attempt 1: started (pid 7)',
    ]);
  });

  it('npf logs - read-csv reads quoted fields and both line ends', () => {
    expect(readCsv('a,b\r\n"x,1","say ""hi"""\n2,\n')).toEqual([{ a: 'x,1', b: 'say "hi"' }, { a: '2', b: '' }]);
  });
});
