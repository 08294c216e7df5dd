/**
 * `npf` composition root: dispatches to one module per subcommand (cli/commands/<name>.ts),
 * each exporting `run(argv: string[]): Promise<number>` (the exit code). Each command parses its
 * arguments with cli/args.ts. Errors derived from NpfError are printed as one sentence (a
 * UsageError lists every bad argument); anything else is a bug and keeps its stack.
 *
 * `npf help <command>` is `npf <command> --help`; `npf --version` prints package.json's version.
 * A closed stdout (`npf watch ... | head`) ends the process quietly.
 */
import { NpfError } from '../common/errors.js';
import { UsageError } from './args.js';
import { route, unknownCommand, usage, version } from './command-table.js';

let current = '';

export async function main(argv: string[]): Promise<number> {
  const r = route(argv);
  if ('print' in r) {
    if (r.print === 'version') console.log(`npf ${version()}`);
    else if (r.code === 0) console.log(usage());
    else console.error(usage());
    return r.code;
  }
  if ('unknown' in r) {
    console.error(unknownCommand(r.unknown));
    return 2;
  }
  current = r.command;
  const mod = (await import(`./commands/${r.command}.js`)) as { run(argv: string[]): Promise<number> };
  return mod.run(r.rest);
}

// A reader that went away (`| head`) is not an error of ours: stop quietly, without a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
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
      console.error(err.message.startsWith('npf ') ? err.message : `npf${current ? ` ${current}` : ''}: ${err.message}`);
      process.exitCode = 2;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
