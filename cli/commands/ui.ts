/**
 * `npf ui`: serve the web dashboard of a local run directory (the store `npf run` writes) until
 * SIGTERM/SIGINT; live while a run is going, and afterwards.
 */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../common/errors.js';
import { resolveToken } from '../../coordinator/cli-connection.js';
import { startUiServer } from '../../dashboard/ui-server.js';

const USAGE = `usage: npf ui [options]

  --data-dir DIR       the run directory (default ./.npf): DIR/npf.db, read-only
  --http HOST:PORT     where to serve the dashboard (default 127.0.0.1:9470; port 0 picks one)
  --token TOKEN        require this token to sign in (or --token-file, or env NPF_TOKEN);
                       needed to listen beyond loopback
  --token-file FILE    read the token from FILE`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        http: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new InvalidInputError(`ui: ${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
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
