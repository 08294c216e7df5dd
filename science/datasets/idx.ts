/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), parsed from
 * bytes already in memory (decompressed when the file was gzipped; see `file-bytes.ts`).
 *
 * Layout: a 4-byte magic number 0x00 0x00 <data type> <number of dimensions>, then one
 * big-endian uint32 per dimension, then the data, row-major. Only data type 0x08 (unsigned
 * byte) is used by these datasets: images are idx3 [n, rows, cols], labels idx1 [n].
 */
import { DatasetError } from './errors.js';
import type { RawSplit } from './dataset.js';

/** IDX data type byte of unsigned bytes. */
const IDX_UBYTE = 0x08;

const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** An unsigned-byte IDX array: its dimensions and a view of its data (no copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parse an unsigned-byte IDX file of `expectedDims` dimensions.
 * @param file the path, for error messages only.
 * @throws DatasetError bad-magic, bad-dimensions or bad-length.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims: number): IdxArray {
  const expectedMagic = (IDX_UBYTE << 8) | expectedDims;
  const what = expectedDims === 1 ? 'labels (idx1-ubyte)' : `images (idx${expectedDims}-ubyte)`;
  if (bytes.length < 4) {
    throw new DatasetError(
      'bad-length',
      `${file}: file is ${bytes.length} bytes, too short for an IDX header (expected ${what}, magic ${hex32(expectedMagic)})`,
      { file, expectedMagic, actualBytes: bytes.length },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const dataType = bytes[2];
  const ndims = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || dataType !== IDX_UBYTE) {
    const typeNote =
      bytes[0] === 0 && bytes[1] === 0 && IDX_TYPE_NAMES[dataType] !== undefined
        ? ` (an IDX file of ${IDX_TYPE_NAMES[dataType]} values; only unsigned bytes are supported)`
        : ' (not an IDX file)';
    throw new DatasetError(
      'bad-magic',
      `${file}: bad magic number: expected ${hex32(expectedMagic)} for ${what}, found ${hex32(magic)}${typeNote}`,
      { file, expectedMagic, foundMagic: magic },
    );
  }
  if (ndims !== expectedDims) {
    throw new DatasetError(
      'bad-dimensions',
      `${file}: wrong dimension count: expected ${expectedDims} (${what}, magic ${hex32(expectedMagic)}), found ${ndims} (magic ${hex32(magic)})`,
      { file, expectedDims, foundDims: ndims },
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DatasetError(
      'bad-length',
      `${file}: file shorter than its header: ${ndims} dimensions need a ${headerBytes}-byte header, the file has ${bytes.length} bytes`,
      { file, expectedBytes: headerBytes, actualBytes: bytes.length },
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  const expectedBytes = headerBytes + dataBytes;
  if (bytes.length !== expectedBytes) {
    const shorter = bytes.length < expectedBytes;
    throw new DatasetError(
      'bad-length',
      `${file}: file ${shorter ? 'shorter' : 'longer'} than the header says: dimensions ${dims.join(' x ')} need ` +
        `${expectedBytes} bytes (${headerBytes} header + ${dataBytes} data), the file has ${bytes.length} bytes` +
        (shorter ? ' (truncated download?)' : ''),
      { file, dims, expectedBytes, actualBytes: bytes.length },
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Parse an idx3-ubyte images file and check each image is `rows x cols`.
 * Returns NHWC bytes with one channel (IDX rows x cols is already H, W order).
 */
export function parseIdxImages(bytes: Uint8Array, file: string, rows: number, cols: number): { pixels: Uint8Array; n: number } {
  const { dims, data } = parseIdx(bytes, file, 3);
  const [n, r, c] = dims;
  if (r !== rows || c !== cols) {
    throw new DatasetError('bad-shape', `${file}: expected ${rows}x${cols} images, found ${r}x${c}`, {
      file,
      expected: [rows, cols],
      found: [r, c],
    });
  }
  return { pixels: data, n };
}

/** Parse an idx1-ubyte labels file and check every label is in 0..numClasses-1. */
export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses: number): Uint8Array {
  const { data } = parseIdx(bytes, file, 1);
  checkLabelRange(data, file, numClasses);
  return data;
}

/** @throws DatasetError label-out-of-range naming the first offending example. */
export function checkLabelRange(labels: Uint8Array, file: string, numClasses: number, what = 'label'): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DatasetError(
        'label-out-of-range',
        `${file}: ${what} out of range: example ${i} has ${what} ${labels[i]}, expected 0..${numClasses - 1}`,
        { file, index: i, label: labels[i], numClasses },
      );
    }
  }
}

/**
 * Pair an images file with its labels file into one split.
 * @throws DatasetError count-mismatch naming both files and both counts.
 */
export function pairIdx(
  images: { pixels: Uint8Array; n: number },
  imagesFile: string,
  labels: Uint8Array,
  labelsFile: string,
  rows: number,
  cols: number,
): RawSplit {
  if (images.n !== labels.length) {
    throw new DatasetError(
      'count-mismatch',
      `images/labels count mismatch: ${imagesFile} holds ${images.n} images but ${labelsFile} holds ${labels.length} labels`,
      { file: imagesFile, labelsFile, images: images.n, labels: labels.length },
    );
  }
  return { pixels: images.pixels, labels, n: images.n, shape: [rows, cols, 1] };
}
