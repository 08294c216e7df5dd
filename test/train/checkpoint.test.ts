import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../science/backend/init-backend.js';
import { readCheckpoint, sha256Hex, writeCheckpoint } from '../../science/checkpoint/checkpoint-io.js';
import { CheckpointError } from '../../science/checkpoint/errors.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointContent, type CheckpointHeader } from '../../science/checkpoint/format.js';
import { gatesFromCheckpoint } from '../../science/checkpoint/model-checkpoint.js';
import { planNetwork } from '../../science/models/architecture.js';
import type { ArchSpec } from '../../science/types.js';

function content(arch: ArchSpec = { kind: 'fc', width: 3, depth: 2 }, regime: CheckpointHeader['regime'] = 'relu'): CheckpointContent {
  const shapes: [string, number[]][] = [
    ['hidden.0.kernel', [4, 3]],
    ['hidden.0.bias', [3]],
    ['hidden.1.kernel', [3, 3]],
    ['hidden.1.bias', [3]],
    ['head.kernel', [3, 2]],
    ['head.bias', [2]],
  ];
  let k = 0;
  return {
    header: {
      format: 'npf-checkpoint',
      version: 1,
      arch,
      inputShape: [2, 2, 1],
      outputs: 2,
      regime,
      name: 'best',
      epoch: 3,
      testAccuracy: 0.5,
      seed: 1,
      tensors: shapes.map(([name, shape]) => ({ name, shape })),
    },
    data: shapes.map(([, shape]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (k++ % 7) - 3.25)),
  };
}

beforeAll(async () => {
  await initBackend('cpu', false);
});

const dir = (): string => mkdtempSync(join(tmpdir(), 'npf-ckpt-test-'));

async function problemOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    return (err as CheckpointError).problem;
  }
  throw new Error('expected a CheckpointError');
}

describe('train - checkpoints', () => {
  it('train - encode/decode round trip keeps header and float32 payload exactly', () => {
    const c = content();
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(back.header).toEqual(c.header);
    expect(back.data.map((d) => Array.from(d))).toEqual(c.data.map((d) => Array.from(d)));
  });

  it('train - write then read verifies the sha256 of the bytes', async () => {
    const ref = await writeCheckpoint(dir(), content());
    expect(ref.sha256).toBe(sha256Hex(readFileSync(ref.path)));
    const back = await readCheckpoint(ref);
    expect(back.header.name).toBe('best');
  });

  it('train - a changed byte is a hash mismatch naming the file', async () => {
    const ref = await writeCheckpoint(dir(), content());
    const bytes = readFileSync(ref.path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(ref.path, bytes);
    await expect(readCheckpoint(ref)).rejects.toThrow(ref.path);
    expect(await problemOf(readCheckpoint(ref))).toBe('hash-mismatch');
  });

  it('train - truncated files and bad headers are named as such (even with a matching hash)', async () => {
    const d = dir();
    const full = encodeCheckpoint(content());
    const cases: [string, Uint8Array, string][] = [
      ['truncated-payload', full.subarray(0, full.length - 5), 'truncated'],
      ['truncated-preamble', full.subarray(0, 6), 'truncated'],
      ['bad-magic', Uint8Array.from([...Buffer.from('NOTACKPT'), ...full.subarray(8)]), 'bad-header'],
      ['bad-json', (() => { const b = Uint8Array.from(full); b[12] = 0x7b + 1; return b; })(), 'bad-header'],
    ];
    for (const [name, bytes, problem] of cases) {
      const path = join(d, `${name}.npfckpt`);
      writeFileSync(path, bytes);
      expect(await problemOf(readCheckpoint({ path, sha256: sha256Hex(bytes) }))).toBe(problem);
    }
    expect(await problemOf(readCheckpoint({ path: join(d, 'absent.npfckpt'), sha256: '0'.repeat(64) }))).toBe('missing');
  });

  it('train - gates from a checkpoint of another width, depth, arch or regime are refused', () => {
    const plan = (arch: ArchSpec) => planNetwork(arch, [2, 2, 1], 2, true);
    const ok = gatesFromCheckpoint(content(), plan({ kind: 'fc', width: 3, depth: 2 }), 'f.npfckpt');
    expect(ok.map((l) => l.kernel.shape)).toEqual([
      [4, 3],
      [3, 3],
    ]);
    expect(Array.from(ok[0].kernel.dataSync())).toEqual(Array.from(content().data[0]));
    expect(ok[0].kernel.trainable).toBe(false);
    ok.forEach((l) => (l.kernel.dispose(), l.bias?.dispose()));
    const refuse = (c: CheckpointContent, arch: ArchSpec): string => {
      try {
        gatesFromCheckpoint(c, plan(arch), 'f.npfckpt');
      } catch (err) {
        expect((err as Error).message).toContain('f.npfckpt');
        return (err as CheckpointError).problem;
      }
      return 'accepted';
    };
    expect(refuse(content(), { kind: 'fc', width: 4, depth: 2 })).toBe('wrong-shape');
    expect(refuse(content(), { kind: 'fc', width: 3, depth: 3 })).toBe('wrong-shape');
    expect(refuse(content(), { kind: 'gconv' })).toBe('wrong-shape');
    expect(refuse(content({ kind: 'fc', width: 3, depth: 2 }, 'dnpfl'), { kind: 'fc', width: 3, depth: 2 })).toBe('wrong-kind');
    // Header says width 3 but a tensor has another shape: still refused.
    const lying = content();
    lying.header.tensors[2] = { name: 'hidden.1.kernel', shape: [3, 3] };
    lying.header.tensors[0] = { name: 'hidden.0.kernel', shape: [3, 4] };
    expect(refuse(lying, { kind: 'fc', width: 3, depth: 2 })).toBe('wrong-shape');
    expect(tf.memory().numTensors).toBe(0);
  });
});
