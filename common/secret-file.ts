/**
 * A secret given as a file (a mounted Kubernetes Secret, a file with mode 0600): read once at
 * start-up, trimmed, never taken from argv or the environment, so it is not in `ps` output nor
 * inherited by child processes.
 */
import fs from 'node:fs';
import { InvalidInputError } from './errors.js';

/** The trimmed content of `file`; InvalidInputError naming `flag` when unreadable or empty. */
export function readSecretFile(flag: string, file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new InvalidInputError(`${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { flag, file });
  }
  if (!text) throw new InvalidInputError(`${flag} ${file}: the file is empty`, { flag, file });
  return text;
}
