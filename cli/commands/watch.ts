/** `npf watch <sweep>`: follow a sweep's events, one line each, until it completes. */
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connect } from '../connection.js';
import { followSweepFromNats } from '../../events/follow-sweep.js';
import { isSweepEnd } from '../../events/event-schema.js';
import { formatEvent } from '../../events/format-event.js';
import { fromWatchSweepResponse } from '../../coordinator/grpc-mapping.js';

const USAGE = `usage: npf watch <sweep-id> [--from-start] [options]

Prints one line per event and exits when the sweep finishes: 0 when it completed, 1 when it
ended failed or cancelled.

  --from-start              replay the sweep's past events first
  --nats URL                follow the sweep from NATS JetStream instead of the coordinator
${CONNECTION_USAGE}`;

const SPEC = defineCommand({
  command: 'watch',
  usage: USAGE,
  flags: { ...CONNECTION_FLAGS, 'from-start': { kind: 'boolean' }, nats: { kind: 'string' } },
  positionals: { min: 1, max: 1, what: 'sweep id' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  if (values.nats) {
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    const r = await followSweepFromNats({
      url: values.nats,
      sweepId: positionals[0],
      fromStart: !!values['from-start'],
      signal: abort.signal,
      onEvent: (e) => console.log(formatEvent(e)),
    });
    if (r.missed > 0) console.error(`npf watch: ${r.missed} event(s) were dropped by the publisher while NATS was unreachable`);
    return r.end === 'complete' ? 0 : 1;
  }
  const client = connect(values);
  let ok = true;
  try {
    await client.watch(positionals[0], !!values['from-start'], (m) => {
      const e = fromWatchSweepResponse(m);
      if (isSweepEnd(e)) ok = e.type === 'sweep.complete' && e.payload.failed === 0;
      console.log(formatEvent(e));
    });
  } finally {
    client.close();
  }
  return ok ? 0 : 1;
}
