/**
 * Artifact uploads and downloads. An upload is fenced like every report (the uploader, the worker
 * its header names, must hold the task's current lease) when it starts and again before its
 * bytes are recorded.
 */
import type { ArtifactStore, ArtifactUpload } from '../artifact-store.js';
import { SHA256_HEX } from '../artifact-store.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import { requireId, type CoreContext } from './context.js';
import { checkFence } from './fence.js';
import type { ArtifactRef, UploadHeader } from './types.js';

export class Artifacts {
  constructor(
    private readonly c: CoreContext,
    private readonly files: ArtifactStore,
  ) {}

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
    return this.files.begin({ taskId: header.taskId, name: ref.name, sha256: ref.sha256, size: ref.size });
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
