/**
 * Writers of small datasets in the real on-disk formats (IDX, CIFAR binary), for the dataset
 * tests. Pixel values are a deterministic function of (example, position) so a test can
 * check any pixel it reads back.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix = 'npf-datasets-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The byte a generated image holds at flat position p of example i (in the file's own layout). */
export function pixelAt(i: number, p: number): number {
  return (i * 31 + p * 7 + 3) % 256;
}

/** An unsigned-byte IDX file: magic 0x0000 08 <ndims>, big-endian dims, data. */
export function idxBytes(dims: number[], data: Uint8Array, magicDims = dims.length, dataType = 0x08): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = dataType;
  header[3] = magicDims;
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, data]);
}

export function idxImages(n: number, rows = 28, cols = 28): Uint8Array {
  const data = new Uint8Array(n * rows * cols);
  for (let i = 0; i < n; i++) for (let p = 0; p < rows * cols; p++) data[i * rows * cols + p] = pixelAt(i, p);
  return idxBytes([n, rows, cols], data);
}

export function idxLabels(labels: number[]): Uint8Array {
  return idxBytes([labels.length], Uint8Array.from(labels));
}

export interface IdxSetOptions {
  trainLabels: number[];
  testLabels: number[];
  gzip?: 'none' | 'gz-suffix' | 'gz-content-raw-name';
}

/** Write the four MNIST-style IDX files into `dir`. */
export async function writeIdxSet(dir: string, o: IdxSetOptions): Promise<void> {
  const files: [string, Uint8Array][] = [
    ['train-images-idx3-ubyte', idxImages(o.trainLabels.length)],
    ['train-labels-idx1-ubyte', idxLabels(o.trainLabels)],
    ['t10k-images-idx3-ubyte', idxImages(o.testLabels.length)],
    ['t10k-labels-idx1-ubyte', idxLabels(o.testLabels)],
  ];
  for (const [name, bytes] of files) {
    if (o.gzip === 'gz-suffix') await writeFile(join(dir, `${name}.gz`), gzipSync(bytes));
    else if (o.gzip === 'gz-content-raw-name') await writeFile(join(dir, name), gzipSync(bytes));
    else await writeFile(join(dir, name), bytes);
  }
}

/**
 * One CIFAR binary batch: per record the label byte(s) then 3072 CHW pixel bytes, where
 * channel c, row h, column w of example i holds pixelAt(i + offset, c*1024 + h*32 + w).
 */
export function cifarBytes(labels: number[], variant: 'cifar10' | 'cifar100', offset = 0, coarse?: number[]): Uint8Array {
  const lb = variant === 'cifar10' ? 1 : 2;
  const rec = lb + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((label, i) => {
    const base = i * rec;
    if (variant === 'cifar10') out[base] = label;
    else {
      out[base] = coarse ? coarse[i] : label % 20;
      out[base + 1] = label;
    }
    for (let p = 0; p < 3072; p++) out[base + lb + p] = pixelAt(i + offset, p);
  });
  return out;
}
