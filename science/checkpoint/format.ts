/**
 * The checkpoint file format: self-describing, pure encode/decode over bytes.
 *
 *   bytes 0..7    magic "NPFCKPT1"
 *   bytes 8..11   header length H (uint32, little endian)
 *   bytes 12..    header: H bytes of UTF-8 JSON (CheckpointHeader), space-padded so that the
 *                 payload starts at a multiple of 4
 *   then          payload: the tensors' float32 values, little endian, in header order
 *
 * A file is pinned by the SHA-256 of all its bytes (CheckpointRef.sha256).
 */
import { endianness } from 'node:os';
import type { ArchSpec, Regime } from '../types.js';

export const CHECKPOINT_MAGIC = 'NPFCKPT1';
export const CHECKPOINT_VERSION = 1;

export interface TensorEntry {
  /** 'hidden.<l>.kernel', 'hidden.<l>.bias', 'head.kernel' (ReLU); 'value.*' / 'feature.*' (DGN). */
  name: string;
  shape: number[];
}

export interface CheckpointHeader {
  format: 'npf-checkpoint';
  version: number;
  arch: ArchSpec;
  inputShape: [number, number, number];
  outputs: number;
  /** Regime of the trial that wrote it: gates may only come from 'relu'. */
  regime: Regime;
  /** 'best', 'final', 'best@<epoch>'. */
  name: string;
  /** Epoch whose weights these are. */
  epoch: number;
  testAccuracy: number;
  seed: number;
  tensors: TensorEntry[];
}

export interface CheckpointContent {
  header: CheckpointHeader;
  /** One Float32Array per header tensor, same order. */
  data: Float32Array[];
}

/** Why bytes do not decode; the caller adds the file name. */
export class CheckpointDecodeError extends Error {
  constructor(
    readonly problem: 'truncated' | 'bad-header',
    message: string,
  ) {
    super(message);
  }
}

const LITTLE_ENDIAN = endianness() === 'LE';

function count(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function encodeCheckpoint(content: CheckpointContent): Uint8Array {
  const { header, data } = content;
  if (header.tensors.length !== data.length) throw new Error('checkpoint header and data disagree on the number of tensors');
  header.tensors.forEach((t, i) => {
    if (count(t.shape) !== data[i].length) throw new Error(`tensor ${t.name}: shape ${JSON.stringify(t.shape)} but ${data[i].length} values`);
  });
  let json = JSON.stringify(header);
  const pad = (4 - ((12 + Buffer.byteLength(json)) % 4)) % 4;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const payload = data.reduce((a, d) => a + d.length, 0) * 4;
  const out = Buffer.alloc(12 + headerBytes.length + payload);
  out.write(CHECKPOINT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, 12);
  let offset = 12 + headerBytes.length;
  for (const d of data) {
    if (LITTLE_ENDIAN) {
      Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, offset);
      offset += d.byteLength;
    } else {
      for (let i = 0; i < d.length; i++, offset += 4) out.writeFloatLE(d[i], offset);
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function isHeader(h: unknown): h is CheckpointHeader {
  if (typeof h !== 'object' || h === null) return false;
  const o = h as Record<string, unknown>;
  return (
    o.format === 'npf-checkpoint' &&
    typeof o.version === 'number' &&
    typeof o.arch === 'object' &&
    o.arch !== null &&
    Array.isArray(o.inputShape) &&
    typeof o.regime === 'string' &&
    typeof o.epoch === 'number' &&
    Array.isArray(o.tensors) &&
    o.tensors.every(
      (t: unknown) =>
        typeof t === 'object' &&
        t !== null &&
        typeof (t as TensorEntry).name === 'string' &&
        Array.isArray((t as TensorEntry).shape) &&
        (t as TensorEntry).shape.every((d) => Number.isInteger(d) && d >= 0),
    )
  );
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointContent {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12) throw new CheckpointDecodeError('truncated', `file is ${buf.length} bytes, shorter than the 12-byte preamble`);
  const magic = buf.toString('latin1', 0, 8);
  if (magic !== CHECKPOINT_MAGIC) throw new CheckpointDecodeError('bad-header', `not an npf checkpoint (magic ${JSON.stringify(magic)}, expected "${CHECKPOINT_MAGIC}")`);
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) throw new CheckpointDecodeError('truncated', `header claims ${headerLength} bytes but the file ends first`);
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength));
  } catch (err) {
    throw new CheckpointDecodeError('bad-header', `header is not valid JSON (${(err as Error).message})`);
  }
  if (!isHeader(header)) throw new CheckpointDecodeError('bad-header', 'header lacks format/version/arch/regime/epoch/tensors');
  if (header.version !== CHECKPOINT_VERSION) throw new CheckpointDecodeError('bad-header', `unsupported version ${header.version} (this build reads ${CHECKPOINT_VERSION})`);
  const start = 12 + headerLength;
  const expected = header.tensors.reduce((a, t) => a + count(t.shape), 0) * 4;
  if (buf.length - start < expected) throw new CheckpointDecodeError('truncated', `payload is ${buf.length - start} bytes, header describes ${expected}`);
  if (buf.length - start > expected) throw new CheckpointDecodeError('bad-header', `payload is ${buf.length - start} bytes, header describes only ${expected}`);
  const data: Float32Array[] = [];
  let offset = start;
  for (const t of header.tensors) {
    const n = count(t.shape);
    const arr = new Float32Array(n);
    if (LITTLE_ENDIAN) {
      new Uint8Array(arr.buffer).set(buf.subarray(offset, offset + 4 * n));
      offset += 4 * n;
    } else {
      for (let i = 0; i < n; i++, offset += 4) arr[i] = buf.readFloatLE(offset);
    }
    data.push(arr);
  }
  return { header, data };
}
