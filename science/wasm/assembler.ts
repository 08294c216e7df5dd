/**
 * A minimal WebAssembly assembler: LEB128 numbers, sections, the opcodes the hand-assembled
 * modules of fused training use (update-module.ts, gemm-module.ts), structured loops
 * and function bodies. Only what those modules need; every opcode is named after its text-format
 * instruction.
 */

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

export function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

export function name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...u32(bytes.length), ...bytes];
}

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

// Opcodes.
export const get = (i: number): number[] => [0x20, ...u32(i)];
export const set = (i: number): number[] => [0x21, ...u32(i)];
export const i32Const = (n: number): number[] => [0x41, ...s32(n)];
export const I32_ADD = [0x6a];
export const I32_AND = [0x71];
export const I32_SHL = [0x74];
export const I32_GE_U = [0x4f];
export const F32_LOAD = [0x2a, 0x02, 0x00];
export const F32_STORE = [0x38, 0x02, 0x00];
export const F32_SQRT = [0x91];
export const F32_ADD = [0x92];
export const F32_SUB = [0x93];
export const F32_MUL = [0x94];
export const F32_DIV = [0x95];
export const simd = (op: number): number[] => [0xfd, ...u32(op)];
export const V128_LOAD = [...simd(0x00), 0x00, 0x00]; // align 1: member slices need not be 16-byte aligned
export const V128_STORE = [...simd(0x0b), 0x00, 0x00];
export const F32X4_SPLAT = simd(0x13);
export const F32X4_SQRT = simd(0xe3);
export const F32X4_ADD = simd(0xe4);
export const F32X4_SUB = simd(0xe5);
export const F32X4_MUL = simd(0xe6);
export const F32X4_DIV = simd(0xe7);
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const BR = (depth: number): number[] => [0x0c, ...u32(depth)];
export const BR_IF = (depth: number): number[] => [0x0d, ...u32(depth)];
export const END = [0x0b];

/**
 * A loop over i in steps of `step` while i < limit: `body(addr)` where addr(p) pushes the byte
 * address p + 4 i.
 */
export function loop(i: number, limit: number[], step: number, body: (addr: (ptr: number) => number[]) => number[]): number[] {
  const addr = (ptr: number): number[] => [...get(ptr), ...get(i), ...i32Const(2), ...I32_SHL, ...I32_ADD];
  return [
    ...BLOCK,
    ...LOOP,
    ...get(i),
    ...limit,
    ...I32_GE_U,
    ...BR_IF(1),
    ...body(addr),
    ...get(i),
    ...i32Const(step),
    ...I32_ADD,
    ...set(i),
    ...BR(0),
    ...END,
    ...END,
  ];
}

/** A function body: local declarations (runs of [count, type]) then code. */
export function body(locals: [number, number][], code: number[]): number[] {
  const b = [...vec(locals.map(([n, t]) => [...u32(n), t])), ...code, ...END];
  return [...u32(b.length), ...b];
}

/** The WebAssembly JS API (Node's typings here leave it out of the global namespace). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Compile and instantiate `bytes`, importing `memory` as env.memory. */
export function instantiateOver(bytes: Uint8Array, memory: object): unknown {
  const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  return new api.Instance(new api.Module(bytes), { env: { memory } }).exports;
}
