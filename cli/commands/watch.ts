/** `npf watch <sweep>`: follow a sweep's events, one line each, until it completes. */
import type { WatchSweepResponse } from '../../gen/npf/v1/sweep.js';
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connect } from '../connection.js';
import { followSweepFromNats } from '../../events/follow-sweep.js';
import { formatEvent as formatBusEvent } from '../../events/format-event.js';

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

/** One line per event: time, type, task (short), details. */
export function formatEvent(e: WatchSweepResponse): string {
  let p: Record<string, unknown> = {};
  try {
    p = JSON.parse(e.payloadJson || '{}') as Record<string, unknown>;
  } catch {
    // shown raw below
  }
  const t = new Date(e.timeMs).toISOString().slice(11, 23);
  const task = e.taskId ? e.taskId.slice(0, 12) : '-'.padEnd(12);
  const pct = (x: unknown): string => (typeof x === 'number' ? `${(x * 100).toFixed(2)}%` : '?');
  let detail: string;
  switch (e.type) {
    case 'leased':
      detail = `attempt ${p.attempt} on ${p.workerId}${typeof p.gpuIndex === 'number' && p.gpuIndex >= 0 ? ` gpu ${p.gpuIndex}` : ''}`;
      break;
    case 'progress':
      detail = `epoch ${p.epoch} test accuracy ${pct(p.testAccuracy)}`;
      break;
    case 'succeeded':
      detail = `${p.status} best ${pct(p.bestTestAccuracy)} at epoch ${p.bestEpoch}`;
      break;
    case 'failed':
      detail = String(p.error);
      break;
    case 'retried':
      detail = `attempt ${p.attempt} failed, retry in ${p.backoffMs} ms: ${p.error}`;
      break;
    case 'sweep_submitted':
      detail = `sweep '${p.name}' submitted: ${p.tasks} trial(s), ${p.alreadyDone} already done`;
      break;
    case 'sweep_complete':
      detail = `sweep ${p.state}: ${JSON.stringify(p.counts)}`;
      break;
    default:
      detail = e.payloadJson;
  }
  return `${t} ${e.type.padEnd(14)} ${task} ${detail}`;
}

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
      onEvent: (e) => console.log(formatBusEvent(e)),
    });
    if (r.missed > 0) console.error(`npf watch: ${r.missed} event(s) were dropped by the publisher while NATS was unreachable`);
    return r.end === 'complete' ? 0 : 1;
  }
  const client = connect(values);
  let state = '';
  try {
    await client.watch(positionals[0], !!values['from-start'], (e) => {
      if (e.type === 'sweep_complete') state = (JSON.parse(e.payloadJson) as { state: string }).state;
      console.log(formatEvent(e));
    });
  } finally {
    client.close();
  }
  return state === 'complete' || state === '' ? 0 : 1;
}
