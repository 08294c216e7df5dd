/**
 * The "binary version" of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html),
 * parsed from bytes in memory.
 *
 * CIFAR-10: records of 1 label byte + 3072 pixel bytes. CIFAR-100: 1 coarse label byte +
 * 1 fine label byte + 3072 pixel bytes; we keep the fine label (100 classes). Pixels are
 * stored channel-major (CHW: 1024 red, 1024 green, 1024 blue, each 32x32 row-major); we
 * return them NHWC, the layout the rest of the core uses (Keras' default, as the authors).
 */
import { DatasetError } from './errors.js';
import type { RawSplit } from './dataset.js';
import { checkLabelRange } from './idx.js';

export type CifarVariant = 'cifar10' | 'cifar100';

const SIDE = 32;
const CHANNELS = 3;
const PLANE = SIDE * SIDE;
export const CIFAR_IMAGE_BYTES = PLANE * CHANNELS;

/** Bytes per record: label byte(s) + image. */
export function cifarRecordBytes(variant: CifarVariant): number {
  return (variant === 'cifar10' ? 1 : 2) + CIFAR_IMAGE_BYTES;
}

/**
 * Parse one CIFAR binary batch file.
 * @param file the path, for error messages only.
 * @throws DatasetError bad-length (size not a positive multiple of the record size) or
 *   label-out-of-range.
 */
export function parseCifarBinary(bytes: Uint8Array, file: string, variant: CifarVariant): RawSplit {
  const record = cifarRecordBytes(variant);
  const labelBytes = record - CIFAR_IMAGE_BYTES;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    const whole = Math.floor(bytes.length / record);
    throw new DatasetError(
      'bad-length',
      `${file}: file size ${bytes.length} bytes is not a ${bytes.length === 0 ? 'positive ' : ''}multiple of the ` +
        `${variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} record size ${record} ` +
        `(${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + ${CIFAR_IMAGE_BYTES} pixels): ` +
        `${whole} whole records and ${bytes.length - whole * record} bytes left over (truncated, or the wrong CIFAR variant?)`,
      { file, recordBytes: record, actualBytes: bytes.length },
    );
  }
  const n = bytes.length / record;
  const labels = new Uint8Array(n);
  const coarse = variant === 'cifar100' ? new Uint8Array(n) : undefined;
  const pixels = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  for (let i = 0; i < n; i++) {
    const src = i * record;
    if (coarse) {
      coarse[i] = bytes[src];
      labels[i] = bytes[src + 1];
    } else {
      labels[i] = bytes[src];
    }
    chwToHwc(bytes, src + labelBytes, pixels, i * CIFAR_IMAGE_BYTES);
  }
  if (coarse) checkLabelRange(coarse, file, 20, 'coarse label');
  checkLabelRange(labels, file, variant === 'cifar10' ? 10 : 100, variant === 'cifar10' ? 'label' : 'fine label');
  return { pixels, labels, n, shape: [SIDE, SIDE, CHANNELS] };
}

/** Reorder one 3x32x32 image from CHW (planes) to HWC (interleaved channels). */
function chwToHwc(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
  for (let p = 0; p < PLANE; p++) {
    const d = dstOffset + p * CHANNELS;
    dst[d] = src[srcOffset + p];
    dst[d + 1] = src[srcOffset + PLANE + p];
    dst[d + 2] = src[srcOffset + 2 * PLANE + p];
  }
}

/** Concatenate splits of the same image shape (CIFAR-10's five training batches). */
export function concatRawSplits(parts: readonly RawSplit[]): RawSplit {
  if (parts.length === 1) return parts[0];
  const shape = parts[0].shape;
  const n = parts.reduce((a, p) => a + p.n, 0);
  const pixels = new Uint8Array(parts.reduce((a, p) => a + p.pixels.length, 0));
  const labels = new Uint8Array(n);
  let po = 0;
  let lo = 0;
  for (const p of parts) {
    pixels.set(p.pixels, po);
    labels.set(p.labels, lo);
    po += p.pixels.length;
    lo += p.n;
  }
  return { pixels, labels, n, shape };
}
