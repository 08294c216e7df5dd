/**
 * Writing and reading checkpoint files, pinned by the SHA-256 of their bytes.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckpointRef } from '../types.js';
import { CheckpointError } from './errors.js';
import { CheckpointDecodeError, decodeCheckpoint, encodeCheckpoint, type CheckpointContent } from './format.js';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** File name of a named checkpoint: 'best@10' -> 'best-at-10.npfckpt'. */
export function checkpointFileName(name: string): string {
  return `${name.replace('@', '-at-')}.npfckpt`;
}

/** Write `content` to dir/<name>.npfckpt atomically (temp file + rename); returns its ref. */
export async function writeCheckpoint(dir: string, content: CheckpointContent): Promise<CheckpointRef> {
  const bytes = encodeCheckpoint(content);
  const path = join(dir, checkpointFileName(content.header.name));
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return { path, sha256: sha256Hex(bytes) };
}

/**
 * Read and verify a checkpoint: the file's SHA-256 must equal `ref.sha256`, and it must decode.
 * Throws CheckpointError naming the file and the problem.
 */
export async function readCheckpoint(ref: CheckpointRef): Promise<CheckpointContent> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(ref.path);
  } catch (err) {
    throw new CheckpointError(ref.path, 'missing', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const actual = sha256Hex(bytes);
  if (actual !== ref.sha256) {
    throw new CheckpointError(ref.path, 'hash-mismatch', `content hash mismatch: expected sha256 ${ref.sha256}, the file has ${actual} (changed, truncated or another file)`);
  }
  try {
    return decodeCheckpoint(bytes);
  } catch (err) {
    if (err instanceof CheckpointDecodeError) throw new CheckpointError(ref.path, err.problem, err.message, { cause: err });
    throw err;
  }
}
