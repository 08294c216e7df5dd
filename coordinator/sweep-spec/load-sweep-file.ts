/** I/O shell: read a sweep spec file and parse it (parseSweepSpec does the work). */
import { readFile } from 'node:fs/promises';
import { SweepSpecError } from './errors.js';
import { parseSweepSpec, type ParseSweepOptions } from './parse-sweep.js';
import type { SweepSpec } from './sweep-schema.js';

export interface LoadSweepOptions {
  /** Environment for `${NAME}` interpolation; the composition root passes process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** `path=value` overrides (the CLI's --set). */
  set?: readonly string[];
  /** Name used in messages (default: the path as given). */
  displayName?: string;
}

/** Read and validate a sweep spec file; a missing/unreadable file is a SweepSpecError naming it. */
export async function loadSweepFile(path: string, options: LoadSweepOptions = {}): Promise<SweepSpec> {
  const file = options.displayName ?? path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? String(err)})`;
    throw new SweepSpecError([{ file, message: `sweep spec: ${why}` }], { cause: err });
  }
  const parseOptions: ParseSweepOptions = { file, env: options.env, set: options.set };
  return parseSweepSpec(text, parseOptions);
}
