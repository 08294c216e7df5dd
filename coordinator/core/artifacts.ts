/**
 * Artifact uploads and downloads. An upload is fenced like every report (the uploader, the worker
 * its header names, must hold the task's current lease) when it starts and again before its bytes are recorded. Each sweep
 * has a quota on the bytes of its tasks' artifacts (CoreOptions.artifactBytesPerSweep): an upload
 * is refused at its header when the bytes recorded for any sweep of its task, plus the uploads
 * in flight for that sweep, plus its own would pass it. An upload replacing an artifact of the
 * same name (a newer resume state) counts instead of it, not beside it.
 */
import type { ArtifactStore, ArtifactUpload } from '../artifact-store.js';
import { SHA256_HEX } from '../artifact-store.js';
import { InvalidRequestError, LimitExceededError, NotFoundError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { requireId, type CoreContext } from './context.js';
import { checkFence } from './fence.js';
import type { ArtifactRef, UploadHeader } from './types.js';

export class Artifacts {
  /** Bytes of the uploads in flight, by sweep (reserved at the header, released when settled). */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly c: CoreContext,
    private readonly files: ArtifactStore,
  ) {}

  /** Refuse the upload when it would pass a sweep's quota; otherwise reserve its bytes. Returns the release. */
  private reserve(taskId: string, name: string, size: number): () => void {
    const quota = this.c.opts.artifactBytesPerSweep ?? LIMITS.artifactBytesPerSweep;
    const sweeps = this.c.life.sweepsOf(taskId);
    for (const sweepId of sweeps) {
      const used = this.c.store.artifacts.bytesOfSweep(sweepId, { taskId, name }) + (this.inFlight.get(sweepId) ?? 0);
      if (used + size > quota) {
        throw new LimitExceededError(
          `sweep ${sweepId} is over its artifact quota: artifact '${name}' of task ${taskId} (${size} bytes) would bring its artifacts to ${used + size} bytes, more than the quota of ${quota} bytes (npf coordinator --max-artifact-bytes-per-sweep)`,
          { sweepId, taskId, name, size, used, quotaBytes: quota },
        );
      }
    }
    for (const sweepId of sweeps) this.inFlight.set(sweepId, (this.inFlight.get(sweepId) ?? 0) + size);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const sweepId of sweeps) {
        const left = (this.inFlight.get(sweepId) ?? 0) - size;
        if (left > 0) this.inFlight.set(sweepId, left);
        else this.inFlight.delete(sweepId);
      }
    };
  }

  /** Start an upload after checking the uploader holds the task's lease. */
  beginUpload(header: UploadHeader): ArtifactUpload {
    requireId(header.taskId, 'header.task_id');
    const ref = header.ref;
    if (!ref.name) throw new InvalidRequestError(`artifact upload for task ${header.taskId} has an empty name`);
    if (!SHA256_HEX.test(ref.sha256)) {
      throw new InvalidRequestError(`artifact '${ref.name}' of task ${header.taskId}: sha256 '${ref.sha256}' is not 64 lowercase hex digits`);
    }
    if (!(ref.size >= 0)) throw new InvalidRequestError(`artifact '${ref.name}' of task ${header.taskId}: size ${ref.size} is negative`);
    checkFence(this.c.life.task(header.taskId), header.fencingToken, header.workerId);
    const release = this.reserve(header.taskId, ref.name, ref.size);
    try {
      return this.files.begin({ taskId: header.taskId, name: ref.name, sha256: ref.sha256, size: ref.size }, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Verify and store a finished upload; the lease must still be current. */
  finishUpload(upload: ArtifactUpload, header: UploadHeader): Promise<{ sha256: string; size: number }> {
    const { life, store, opts } = this.c;
    // Refuse before moving bytes into place when the lease was lost meanwhile.
    try {
      checkFence(life.task(header.taskId), header.fencingToken, header.workerId);
    } catch (e) {
      upload.abort();
      throw e;
    }
    upload.finish();
    return life.write(() => {
      checkFence(life.task(header.taskId), header.fencingToken, header.workerId);
      const { name, sha256, size, epoch } = header.ref;
      store.artifacts.record({ task_id: header.taskId, name, attempt: header.fencingToken, sha256, size, epoch }, opts.now());
      return { sha256, size };
    });
  }

  /** Path of a stored artifact, or NOT_FOUND. */
  artifactPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new InvalidRequestError(`sha256 '${sha256}' is not 64 lowercase hex digits`);
    if (!this.files.has(sha256)) throw new NotFoundError('artifact', sha256);
    return this.files.pathOf(sha256);
  }

  /** Artifacts recorded for a task. */
  artifactsOf(taskId: string): ArtifactRef[] {
    return this.c.store.artifacts.ofTask(taskId).map((a) => ({ name: a.name, sha256: a.sha256, size: a.size, epoch: a.epoch }));
  }
}
