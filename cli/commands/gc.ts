/**
 * `npf gc`: delete finished sweeps and free what nothing references any more in a coordinator's
 * data directory (coordinator/gc.ts). Offline: it refuses while a coordinator runs on the directory.
 */
import { defineCommand, parseCommandArgs, printUsage } from '../args.js';
import { collectGarbage } from '../../coordinator/gc.js';

const USAGE = `usage: npf gc --data-dir DIR [--delete-sweep ID]... [options]

Run with the coordinator stopped (it holds DIR's lock while it runs).

  --data-dir DIR            the coordinator's data directory (required)
  --delete-sweep ID         delete this finished sweep (repeatable); a running sweep is refused
  --dry-run                 say what would be deleted; change nothing
  --retention-days N        also prune progress events and epoch records of what finished N days
                            ago, like the coordinator (default 30; 0: none)

Then deletes the trials no sweep references, and removes the checkpoint files no trial names
(and partial uploads).`;

const SPEC = defineCommand({
  command: 'gc',
  usage: USAGE,
  flags: {
    'data-dir': { kind: 'string', required: true },
    'delete-sweep': { kind: 'list' },
    'retention-days': { kind: 'int', min: 0 },
    'dry-run': { kind: 'boolean' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const { help, values } = parseCommandArgs(SPEC, argv);
  if (help) return printUsage(SPEC);
  const r = await collectGarbage({ dataDir: values['data-dir']!, deleteSweeps: values['delete-sweep'] ?? [], retentionDays: values['retention-days'], dryRun: !!values['dry-run'] });
  console.log(
    [
      ...(r.dryRun ? ['dry run: nothing was changed; a run without --dry-run would delete:'] : []),
      `sweeps deleted: ${r.sweepsDeleted.length}${r.sweepsDeleted.length ? ` (${r.sweepsDeleted.join(', ')}), ${r.eventsDeleted} event(s)` : ''}`,
      `trials deleted (no sweep references them): ${r.tasksDeleted}`,
      `history pruned: ${r.pruned.events} progress event(s) of ${r.pruned.sweeps} finished sweep(s), ${r.pruned.progressRows} epoch record(s), ${r.pruned.workers} worker(s) gone`,
      `checkpoint files removed: ${r.filesRemoved} (${r.bytesRemoved} bytes); partial uploads removed: ${r.partialUploadsRemoved}`,
    ].join('\n'),
  );
  return 0;
}
