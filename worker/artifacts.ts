/**
 * Checkpoint transfer between a worker and the coordinator's content-addressed store.
 *
 * Downloads land in `<workDir>/artifacts/<sha256>` and are verified before use; a file already
 * there with the right hash is reused, so several dependants of one ReLU node download it once.
 * Uploads send a header, then the bytes in 64 KiB chunks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRef } from '../gen/npf/v1/sweep.js';
import type { CheckpointInfo } from '../science/types.js';
import type { CoordinatorClient, UnsignedUploadPart } from './coordinator-client.js';
import { ArtifactIntegrityError } from './errors.js';

export const UPLOAD_CHUNK_BYTES = 64 * 1024;

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Local content-addressed cache of downloaded checkpoints. */
export class ArtifactCache {
  readonly dir: string;
  /** Downloads in flight, by hash: concurrent dependants share one. */
  private readonly inflight = new Map<string, Promise<string>>();
  /** How many downloads actually went over the wire (for tests and logs). */
  downloads = 0;

  constructor(workDir: string) {
    this.dir = join(workDir, 'artifacts');
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }

  /** The verified local path of `ref`, downloading it unless a verified copy is already cached. */
  fetch(client: CoordinatorClient, ref: ArtifactRef): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(ref.sha256)) {
      return Promise.reject(new ArtifactIntegrityError(ref.sha256, '(not a sha256)', { name: ref.name }));
    }
    const running = this.inflight.get(ref.sha256);
    if (running) return running;
    const p = this.fetchOnce(client, ref).finally(() => this.inflight.delete(ref.sha256));
    this.inflight.set(ref.sha256, p);
    return p;
  }

  private async fetchOnce(client: CoordinatorClient, ref: ArtifactRef): Promise<string> {
    const target = this.pathOf(ref.sha256);
    if (await exists(target)) {
      const { sha256 } = await sha256File(target);
      if (sha256 === ref.sha256) return target;
      await rm(target, { force: true }); // a corrupt cache entry: fetch again
    }
    await mkdir(this.dir, { recursive: true });
    const tmp = `${target}.${randomBytes(4).toString('hex')}.part`;
    const hash = createHash('sha256');
    const out = createWriteStream(tmp);
    try {
      this.downloads++;
      for await (const msg of client.download(ref.sha256)) {
        hash.update(msg.chunk);
        if (!out.write(msg.chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      const actual = hash.digest('hex');
      if (actual !== ref.sha256) throw new ArtifactIntegrityError(ref.sha256, actual, { name: ref.name });
      await rename(tmp, target);
      return target;
    } catch (err) {
      out.destroy();
      await rm(tmp, { force: true });
      throw err;
    }
  }
}

/** Messages of one upload: the header, then the file in 64 KiB chunks. */
async function* uploadParts(workerId: string, taskId: string, fencingToken: number, ref: ArtifactRef, path: string): AsyncIterable<UnsignedUploadPart> {
  yield { header: { workerId, taskId, fencingToken, ref } };
  for await (const chunk of createReadStream(path, { highWaterMark: UPLOAD_CHUNK_BYTES })) {
    yield { chunk: chunk as Buffer };
  }
}

/**
 * Upload one checkpoint a trial declared. The hash is recomputed from the file (not trusted from
 * the result) and must match what the coordinator computed on its side.
 */
export async function uploadCheckpoint(client: CoordinatorClient, workerId: string, taskId: string, fencingToken: number, cp: CheckpointInfo): Promise<ArtifactRef> {
  const { sha256, size } = await sha256File(cp.path);
  if (sha256 !== cp.sha256) throw new ArtifactIntegrityError(cp.sha256, sha256, { name: cp.name, path: cp.path });
  const ref: ArtifactRef = { name: cp.name, sha256, size, epoch: cp.epoch };
  const res = await client.upload(uploadParts(workerId, taskId, fencingToken, ref, cp.path));
  if (res.sha256 && res.sha256 !== sha256) throw new ArtifactIntegrityError(sha256, res.sha256, { name: cp.name, side: 'coordinator' });
  return ref;
}
