/**
 * I/O shell: read the paper's reference numbers shipped in the package (data/paper/*.csv), for
 * the results table (coordinator, `npf run`) and the figures (`npf plot`) alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../../common/errors.js';
import { parseStagesCsv, parseTable2Csv, type PaperReference } from './paper-reference.js';

/** The npf-sweep package root (works from sources and from dist/). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'npf-sweep') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new InvalidInputError(`cannot find the npf-sweep package root above ${from}`, { from });
    dir = up;
  }
}

/** data/paper of the npf-sweep package, or undefined when the package ships none. */
export function defaultPaperDir(): string | undefined {
  try {
    const dir = join(packageRoot(), 'data', 'paper');
    return existsSync(join(dir, 'table2.csv')) ? dir : undefined;
  } catch (err) {
    if (err instanceof InvalidInputError) return undefined; // no package root above this module
    throw err;
  }
}

/** Read table2.csv and stages.csv from `dir` (default: the package's data/paper). */
export async function loadPaperReference(dir: string | undefined = defaultPaperDir()): Promise<PaperReference> {
  if (dir === undefined) throw new InvalidInputError("cannot find the paper's reference numbers (data/paper of the npf-sweep package)");
  const read = async (name: string) => {
    const file = join(dir, name);
    try {
      return { file, text: await readFile(file, 'utf8') };
    } catch (err) {
      throw new InvalidInputError(`${file}: cannot read the paper's reference numbers (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file }, { cause: err });
    }
  };
  const t2 = await read('table2.csv');
  const st = await read('stages.csv');
  return { table2: parseTable2Csv(t2.text, t2.file), stages: parseStagesCsv(st.text, st.file) };
}
