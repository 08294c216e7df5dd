/**
 * A tiny WebAssembly module, assembled here byte by byte, with the optimiser updates of fused
 * training as single passes over memory: adam (m, v and w in one loop) and sgd. It imports the
 * wasm backend's own memory, so it reads and writes tensors where they live.
 *
 * Why: through tfjs ops, Adam is 12 elementwise kernels per variable, each a full pass over the
 * stacked parameters (K x 167k-334k floats, far beyond the caches); one pass here moves 7 floats
 * per parameter instead of ~36. Each step is the same IEEE float32 operation, in the same
 * order, as the kernels science/train/optimizer.ts runs (f32x4 add/sub/mul/div/sqrt are
 * correctly rounded, as the backend's are), so the result is bit-identical to the unfused
 * update.
 *
 * Exports (pointers are byte offsets into the backend's heap, n counts float32s; out may not
 * alias in except element for element):
 *   adam(g, m, v, w, outM, outV, outW, n, c1, c2, eps, lr)
 *     m' = m + (g - m) c1;  v' = v + (g g - v) c2;  w' = w - (m' / (sqrt(v') + eps)) lr
 *   sgd(g, w, outW, n, lr)
 *     w' = w - g lr
 */

/** Unsigned LEB128. */
function u32(n: number): number[] {
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
function s32(n: number): number[] {
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

function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...u32(bytes.length), ...bytes];
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Opcodes.
const get = (i: number): number[] => [0x20, ...u32(i)];
const set = (i: number): number[] => [0x21, ...u32(i)];
const i32Const = (n: number): number[] => [0x41, ...s32(n)];
const I32_ADD = [0x6a];
const I32_AND = [0x71];
const I32_SHL = [0x74];
const I32_GE_U = [0x4f];
const F32_LOAD = [0x2a, 0x02, 0x00];
const F32_STORE = [0x38, 0x02, 0x00];
const F32_SQRT = [0x91];
const F32_ADD = [0x92];
const F32_SUB = [0x93];
const F32_MUL = [0x94];
const F32_DIV = [0x95];
const simd = (op: number): number[] => [0xfd, ...u32(op)];
const V128_LOAD = [...simd(0x00), 0x00, 0x00]; // align 1: member slices need not be 16-byte aligned
const V128_STORE = [...simd(0x0b), 0x00, 0x00];
const F32X4_SPLAT = simd(0x13);
const F32X4_SQRT = simd(0xe3);
const F32X4_ADD = simd(0xe4);
const F32X4_SUB = simd(0xe5);
const F32X4_MUL = simd(0xe6);
const F32X4_DIV = simd(0xe7);
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const BR = (depth: number): number[] => [0x0c, ...u32(depth)];
const BR_IF = (depth: number): number[] => [0x0d, ...u32(depth)];
const END = [0x0b];

/**
 * A loop over i in steps of `step` while i < limit: `body(addr)` where addr(p) pushes the byte
 * address p + 4 i.
 */
function loop(i: number, limit: number[], step: number, body: (addr: (ptr: number) => number[]) => number[]): number[] {
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
function body(locals: [number, number][], code: number[]): number[] {
  const b = [...vec(locals.map(([n, t]) => [...u32(n), t])), ...code, ...END];
  return [...u32(b.length), ...b];
}

function adamBody(): number[] {
  // Params 0..6 pointers g m v w outM outV outW, 7 n, 8..11 c1 c2 eps lr.
  const [g, m, v, w, outM, outV, outW, n, c1, c2, eps, lr] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  // Locals: 12 i, 13 end4; 14..17 C1 C2 EPS LR splats; 18..20 gv mv vv; 21..23 gs ms vs.
  const [i, end4, C1, C2, EPS, LR, gv, mv, vv, gs, ms, vs] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  const splat = (from: number, to: number): number[] => [...get(from), ...F32X4_SPLAT, ...set(to)];
  const vector = loop(i, get(end4), 4, (addr) => [
    ...addr(g), ...V128_LOAD, ...set(gv),
    ...addr(m), ...V128_LOAD, ...set(mv),
    ...addr(v), ...V128_LOAD, ...set(vv),
    // m' = m + (g - m) c1
    ...get(mv), ...get(gv), ...get(mv), ...F32X4_SUB, ...get(C1), ...F32X4_MUL, ...F32X4_ADD, ...set(mv),
    // v' = v + (g g - v) c2
    ...get(vv), ...get(gv), ...get(gv), ...F32X4_MUL, ...get(vv), ...F32X4_SUB, ...get(C2), ...F32X4_MUL, ...F32X4_ADD, ...set(vv),
    ...addr(outM), ...get(mv), ...V128_STORE,
    ...addr(outV), ...get(vv), ...V128_STORE,
    // w' = w - (m' / (sqrt(v') + eps)) lr
    ...addr(outW),
    ...addr(w), ...V128_LOAD,
    ...get(mv), ...get(vv), ...F32X4_SQRT, ...get(EPS), ...F32X4_ADD, ...F32X4_DIV, ...get(LR), ...F32X4_MUL, ...F32X4_SUB,
    ...V128_STORE,
  ]);
  const scalar = loop(i, get(n), 1, (addr) => [
    ...addr(g), ...F32_LOAD, ...set(gs),
    ...addr(m), ...F32_LOAD, ...set(ms),
    ...addr(v), ...F32_LOAD, ...set(vs),
    ...get(ms), ...get(gs), ...get(ms), ...F32_SUB, ...get(c1), ...F32_MUL, ...F32_ADD, ...set(ms),
    ...get(vs), ...get(gs), ...get(gs), ...F32_MUL, ...get(vs), ...F32_SUB, ...get(c2), ...F32_MUL, ...F32_ADD, ...set(vs),
    ...addr(outM), ...get(ms), ...F32_STORE,
    ...addr(outV), ...get(vs), ...F32_STORE,
    ...addr(outW),
    ...addr(w), ...F32_LOAD,
    ...get(ms), ...get(vs), ...F32_SQRT, ...get(eps), ...F32_ADD, ...F32_DIV, ...get(lr), ...F32_MUL, ...F32_SUB,
    ...F32_STORE,
  ]);
  return body(
    [
      [2, I32],
      [7, V128],
      [3, F32],
    ],
    [
      ...get(n), ...i32Const(-4), ...I32_AND, ...set(end4),
      ...splat(c1, C1), ...splat(c2, C2), ...splat(eps, EPS), ...splat(lr, LR),
      ...vector,
      ...scalar,
    ],
  );
}

function sgdBody(): number[] {
  // Params 0 g, 1 w, 2 outW, 3 n, 4 lr. Locals 5 i, 6 end4, 7 LR.
  const [g, w, outW, n, lr, i, end4, LR] = [0, 1, 2, 3, 4, 5, 6, 7];
  const vector = loop(i, get(end4), 4, (addr) => [
    ...addr(outW), ...addr(w), ...V128_LOAD, ...addr(g), ...V128_LOAD, ...get(LR), ...F32X4_MUL, ...F32X4_SUB, ...V128_STORE,
  ]);
  const scalar = loop(i, get(n), 1, (addr) => [
    ...addr(outW), ...addr(w), ...F32_LOAD, ...addr(g), ...F32_LOAD, ...get(lr), ...F32_MUL, ...F32_SUB, ...F32_STORE,
  ]);
  return body(
    [
      [2, I32],
      [1, V128],
    ],
    [...get(n), ...i32Const(-4), ...I32_AND, ...set(end4), ...get(lr), ...F32X4_SPLAT, ...set(LR), ...vector, ...scalar],
  );
}

/** The module's bytes. */
export function updateModuleBytes(): Uint8Array {
  const adamType = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32], [F32], [F32], [F32], [F32]]), 0x00];
  const sgdType = [0x60, ...vec([[I32], [I32], [I32], [I32], [F32]]), 0x00];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([adamType, sgdType])),
    // import env.memory: a memory with at least 0 pages, no maximum
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0x00], [0x01]])),
    ...section(7, vec([[...name('adam'), 0x00, 0x00], [...name('sgd'), 0x00, 0x01]])),
    ...section(10, [...u32(2), ...adamBody(), ...sgdBody()]),
  ];
  return Uint8Array.from(bytes);
}

export interface UpdateModule {
  adam(g: number, m: number, v: number, w: number, outM: number, outV: number, outW: number, n: number, c1: number, c2: number, eps: number, lr: number): void;
  sgd(g: number, w: number, outW: number, n: number, lr: number): void;
}

/** The WebAssembly JS API (Node's typings here leave it out of the global namespace). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Instantiate the module over `memory` (the wasm backend's WebAssembly.Memory). */
export function instantiateUpdateModule(memory: object): UpdateModule {
  const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  const instance = new api.Instance(new api.Module(updateModuleBytes()), { env: { memory } });
  return instance.exports as unknown as UpdateModule;
}
