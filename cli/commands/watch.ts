/**
 * `npf watch <sweep>`: follow a sweep's events, one line each, until it completes. Trials are
 * named by their label ('dnpfl fc adam 0.0003 seed 2'), not their hash.
 */
import { readSecretFile } from '../../common/secret-file.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { SOURCE_FLAGS, SOURCE_USAGE, openSweepAccess, resolveSweep } from '../sweep-access.js';
import { followSweepFromNats } from '../../events/follow-sweep.js';
import { isSweepEnd } from '../../events/event-schema.js';
import { formatEvent } from '../../events/format-event.js';

const USAGE = `usage: npf watch <sweep> [--from-start] [options]

<sweep> is a sweep's id, name, or a unique prefix of its id. Prints one line per event and exits
when the sweep finishes: 0 when it completed, 1 when it ended failed or cancelled.

  --from-start              replay the sweep's past events first
  --nats URL                follow the sweep (by id) from NATS JetStream instead
  --nats-token-file FILE    NATS authentication token, read from FILE
${SOURCE_USAGE}`;

const SPEC = defineCommand({
  command: 'watch',
  usage: USAGE,
  flags: { ...SOURCE_FLAGS, 'from-start': { kind: 'boolean' }, nats: { kind: 'string' }, 'nats-token-file': { kind: 'string' } },
  positionals: { min: 1, max: 1, what: 'sweep (id or name)' },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    if (values.nats) {
      const natsLabels = new Map<string, string>();
      const r = await followSweepFromNats({
        url: values.nats,
        token: values['nats-token-file'] ? readSecretFile('--nats-token-file', values['nats-token-file']) : undefined,
        sweepId: positionals[0],
        fromStart: !!values['from-start'],
        signal: abort.signal,
        onEvent: (e) => {
          // NATS carries no trial table: a trial's label comes with its lease.
          const p = e.payload as { label?: unknown };
          if (e.type === 'task.leased' && e.taskId && typeof p.label === 'string') natsLabels.set(e.taskId, p.label);
          console.log(formatEvent(e, { label: e.taskId ? natsLabels.get(e.taskId) : undefined }));
        },
      });
      if (r.missed > 0) console.error(`npf watch: ${r.missed} event(s) were dropped by the publisher while NATS was unreachable`);
      return r.end === 'complete' ? 0 : 1;
    }
    const access = openSweepAccess(values);
    let ok = true;
    try {
      const sweep = await resolveSweep(access, positionals[0]);
      const labels = new Map((await access.trials(sweep.sweepId)).map((t) => [t.taskId, t.label]));
      await access.watch(
        sweep.sweepId,
        !!values['from-start'],
        (e) => {
          if (isSweepEnd(e)) ok = e.type === 'sweep.complete' && e.payload.failed === 0;
          console.log(formatEvent(e, { label: e.taskId ? labels.get(e.taskId) : undefined }));
        },
        abort.signal,
      );
    } finally {
      access.close();
    }
    return abort.signal.aborted ? 130 : ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
