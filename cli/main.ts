/**
 * `npf` composition root: dispatches to one module per subcommand (cli/commands/<name>.ts),
 * each exporting `run(argv: string[]): Promise<number>` (the exit code). Each command parses its
 * arguments with cli/args.ts. Errors derived from NpfError are printed as one sentence (a
 * UsageError lists every bad argument); anything else is a bug and keeps its stack.
 */
import { NpfError } from '../common/errors.js';
import { UsageError } from './args.js';

interface CommandInfo {
  summary: string;
}

const COMMANDS: Record<string, CommandInfo> = {
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
  ui: { summary: 'serve the web dashboard of a run directory (live while it runs)' },
  gc: { summary: "delete finished sweeps; free trials and checkpoint files nothing references (coordinator stopped)" },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: npf <command> [options]   (npf <command> --help for its options)', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage());
    return command ? 0 : 2;
  }
  if (!(command in COMMANDS)) {
    console.error(`npf: unknown command '${command}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(`./commands/${command}.js`)) as { run(argv: string[]): Promise<number> };
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      // Already "npf <command>: ..." with every problem listed.
      console.error(err.message);
      process.exitCode = 2;
    } else if (err instanceof NpfError) {
      console.error(`npf: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
