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

import {
  body, F32, F32_ADD, F32_DIV, F32_LOAD, F32_MUL, F32_SQRT, F32_STORE, F32_SUB, F32X4_ADD, F32X4_DIV, F32X4_MUL, F32X4_SPLAT, F32X4_SQRT, F32X4_SUB,
  get, I32, I32_AND, i32Const, instantiateOver, loop, name, section, set, u32, V128, V128_LOAD, V128_STORE, vec,
} from './assembler.js';

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

/** Instantiate the module over `memory` (the wasm backend's WebAssembly.Memory). */
export function instantiateUpdateModule(memory: object): UpdateModule {
  return instantiateOver(updateModuleBytes(), memory) as UpdateModule;
}
