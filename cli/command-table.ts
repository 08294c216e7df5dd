/**
 * The `npf` commands and the routing of the first argument (pure: cli/main.ts does the I/O).
 * Each command lives in cli/commands/<name>.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { closest } from '../common/did-you-mean.js';

interface CommandInfo {
  summary: string;
}

export const COMMANDS: Record<string, CommandInfo> = {
  train: { summary: 'run one training trial from flags or a YAML trial spec' },
  run: { summary: 'run a sweep locally: embedded coordinator + local workers, table at the end' },
  coordinator: { summary: 'start a coordinator (gRPC + /metrics)' },
  worker: { summary: 'start a worker that leases trials from a coordinator' },
  submit: { summary: 'submit a sweep spec to a coordinator' },
  ls: { summary: 'list the sweeps of a local run directory (default .npf) or a coordinator' },
  status: { summary: 'show sweeps and their progress (local directory or coordinator)' },
  watch: { summary: 'follow a sweep live (local directory, coordinator or NATS)' },
  results: { summary: "print a sweep's tables (md, csv, json, latex; tidy trials/epochs CSV) or write them all (--out)" },
  plot: { summary: "draw a sweep's figures (SVG and PNG)" },
  cancel: { summary: 'cancel a sweep, or single trials of it (--trial)' },
  logs: { summary: "print a trial's log: its events, whole failure messages, its workers' lines" },
  ui: { summary: 'serve the web dashboard of a run directory (live while it runs)' },
  gc: { summary: 'delete finished sweeps; free trials and checkpoint files nothing references (coordinator stopped)' },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: npf <command> [options]   (npf help <command> or npf <command> --help for its options)',
    '',
    'commands:',
    ...lines,
    '',
    `  ${'help'.padEnd(width)}  this list, or a command's options (npf help run)`,
    `  ${'--version'.padEnd(width)}  print the version`,
  ].join('\n');
}

/** package.json's version: the nearest package.json above this module (dist/cli/ or cli/). */
export function version(): string {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 4; i++) {
    dir = new URL('..', dir);
    const file = new URL('package.json', dir);
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** "npf: unknown command 'trian' (did you mean train?)" and where the list is. */
export function unknownCommand(name: string): string {
  const near = closest(name, Object.keys(COMMANDS));
  return `npf: unknown command '${name}'${near !== undefined ? ` (did you mean ${near}?)` : ''}; npf help lists the commands`;
}

/** The command the arguments name and its own arguments: `help run` is `run --help`. */
export function route(argv: readonly string[]): { command: string; rest: string[] } | { print: 'usage' | 'version'; code: number } | { unknown: string } {
  const [first, ...rest] = argv;
  if (first === undefined) return { print: 'usage', code: 2 };
  if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) return { print: 'usage', code: 0 };
  if (first === '--version' || first === '-V' || first === 'version') return { print: 'version', code: 0 };
  if (first === 'help') return rest[0] in COMMANDS ? { command: rest[0], rest: ['--help'] } : { unknown: rest[0] };
  return first in COMMANDS ? { command: first, rest } : { unknown: first };
}

