/**
 * Checkpoint files stored by content: dataDir/artifacts/<sha256>. An upload streams into a temp
 * file while hashing; only when its SHA-256 and size match the header is it renamed into place,
 * so a mismatched or interrupted upload leaves nothing behind.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ArtifactMismatchError, LimitExceededError } from './errors.js';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Size of a download chunk. */
export const DOWNLOAD_CHUNK_BYTES = 64 * 1024;

export interface ExpectedArtifact {
  taskId: string;
  name: string;
  sha256: string;
  size: number;
}

/** An upload in progress. */
export class ArtifactUpload {
  private readonly hash = crypto.createHash('sha256');
  private readonly fd: number;
  private received = 0;
  private done = false;

  constructor(
    private readonly store: ArtifactStore,
    private readonly tmpFile: string,
    readonly expected: ExpectedArtifact,
    private readonly maxBytes: number,
    /** Called once when the upload is finished, refused or aborted (a quota reservation ends). */
    private readonly onSettled: () => void = () => {},
  ) {
    this.fd = fs.openSync(tmpFile, 'w');
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    this.onSettled();
  }

  append(chunk: Uint8Array): void {
    this.received += chunk.length;
    if (this.received > this.expected.size) {
      throw new ArtifactMismatchError(
        `artifact '${this.expected.name}' of task ${this.expected.taskId}: received more than the ${this.expected.size} bytes its header declares`,
        { ...this.expected },
      );
    }
    if (this.received > this.maxBytes) {
      throw new LimitExceededError(`artifact '${this.expected.name}' exceeds the coordinator's limit of ${this.maxBytes} bytes`);
    }
    this.hash.update(chunk);
    fs.writeSync(this.fd, chunk);
  }

  /** Verify hash and size, then move the file into place. Returns the stored path. */
  finish(): string {
    const e = this.expected;
    const got = this.hash.digest('hex');
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.settle();
    if (this.received !== e.size || got !== e.sha256) {
      fs.rmSync(this.tmpFile, { force: true });
      const what =
        got !== e.sha256
          ? `sha256 mismatch: the header says ${e.sha256} but the ${this.received} bytes received hash to ${got}`
          : `size mismatch: the header says ${e.size} bytes but ${this.received} arrived`;
      throw new ArtifactMismatchError(`artifact '${e.name}' of task ${e.taskId}: ${what}; nothing was stored`, { ...e, received: this.received, actualSha256: got });
    }
    const dest = this.store.pathOf(e.sha256);
    fs.renameSync(this.tmpFile, dest);
    return dest;
  }

  /** Drop the partial file. */
  abort(): void {
    if (!this.done) {
      this.settle();
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    fs.rmSync(this.tmpFile, { force: true });
  }
}

export class ArtifactStore {
  readonly dir: string;
  private readonly tmpDir: string;

  constructor(dataDir: string, private readonly maxBytes = 8 * 1024 ** 3) {
    this.dir = path.join(dataDir, 'artifacts');
    this.tmpDir = path.join(this.dir, 'tmp');
    fs.mkdirSync(this.tmpDir, { recursive: true });
    // Partial uploads of a previous run are garbage.
    for (const f of fs.readdirSync(this.tmpDir)) fs.rmSync(path.join(this.tmpDir, f), { force: true });
  }

  pathOf(sha256: string): string {
    return path.join(this.dir, sha256);
  }

  has(sha256: string): boolean {
    return SHA256_HEX.test(sha256) && fs.existsSync(this.pathOf(sha256));
  }

  sizeOf(sha256: string): number {
    return fs.statSync(this.pathOf(sha256)).size;
  }

  /** Start an upload into a temp file; `onSettled` runs once when it is finished, refused or aborted. */
  begin(expected: ExpectedArtifact, onSettled?: () => void): ArtifactUpload {
    if (expected.size > this.maxBytes) {
      throw new LimitExceededError(
        `artifact '${expected.name}' of task ${expected.taskId} is ${expected.size} bytes, over the coordinator's limit of ${this.maxBytes}`,
        { ...expected },
      );
    }
    const tmp = path.join(this.tmpDir, `${expected.sha256.slice(0, 16)}-${crypto.randomBytes(6).toString('hex')}`);
    return new ArtifactUpload(this, tmp, expected, this.maxBytes, onSettled);
  }
}
