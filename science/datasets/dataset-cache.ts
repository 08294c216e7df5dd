/**
 * Per-process cache of decoded dataset files. Loading all of MNIST parses ~55 MB and
 * Fashion-MNIST also gunzips it, so a worker that runs many trials on the same dataset
 * decodes it once. Entries are keyed by the files' paths, sizes and modification times, so a
 * file replaced on disk is read again. Concurrent loads of the same files share one read.
 *
 * The cache is an object passed in (the composition root owns it), not a module singleton;
 * `loadDataset` without a cache uses one it creates on first use.
 */
import { fileStamp, readDatasetFile } from './file-bytes.js';

export interface LoadedFile {
  path: string;
  bytes: Uint8Array;
}

export class DatasetCache {
  private readonly entries = new Map<string, { stamp: string; value: Promise<unknown> }>();

  /**
   * The decoded value of `paths` under `kind` (the decoder's name, part of the key), reading
   * and decoding them with `decode` on a miss. A failed decode is not cached.
   */
  async load<T>(kind: string, paths: readonly string[], decode: (files: LoadedFile[]) => T): Promise<T> {
    const stamps = await Promise.all(paths.map((p) => fileStamp(p)));
    const key = [kind, ...paths].join('\n');
    const stamp = stamps.map((s) => `${s.size}|${s.mtimeMs}`).join('\n');
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp) return hit.value as Promise<T>;
    const pending = (async () => {
      const files = await Promise.all(paths.map(async (path) => ({ path, bytes: await readDatasetFile(path) })));
      return decode(files);
    })();
    const entry = { stamp, value: pending as Promise<unknown> };
    this.entries.set(key, entry);
    pending.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return pending;
  }

  /** Number of cached entries (decoded file groups). */
  get size(): number {
    return this.entries.size;
  }

  /** Drop every entry (frees the decoded bytes once no Dataset refers to them). */
  clear(): void {
    this.entries.clear();
  }
}
