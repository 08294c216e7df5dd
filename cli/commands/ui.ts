/**
 * `npf ui`: serve the web dashboard of a local run directory (the store `npf run` writes) until
 * SIGTERM/SIGINT; live while a run is going, and afterwards.
 */
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { resolveToken } from '../connection.js';
import { startUiServer } from '../../dashboard/ui-server.js';

const USAGE = `usage: npf ui [options]

  --data-dir DIR       the run directory (default ./.npf): DIR/npf.db, read-only
  --http HOST:PORT     where to serve the dashboard (default 127.0.0.1:9470; port 0 picks one)
  --token TOKEN        require this token to sign in (or --token-file, or env NPF_TOKEN);
                       needed to listen beyond loopback
  --token-file FILE    read the token from FILE`;

const SPEC = defineCommand({
  command: 'ui',
  usage: USAGE,
  flags: {
    'data-dir': { kind: 'string' },
    http: { kind: 'string' },
    token: { kind: 'string' },
    'token-file': { kind: 'string' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const dataDir = values['data-dir'] ?? '.npf';
  const server = await startUiServer({
    dataDir,
    listen: values.http ?? '127.0.0.1:9470',
    token: resolveToken(values),
    log: (line) => console.error(`npf ui: ${line}`),
  });
  console.log(`npf ui: dashboard of ${dataDir} on ${server.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.close();
  return 0;
}
