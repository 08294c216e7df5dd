/**
 * A hand-assembled WebAssembly matrix product for the fused path on the wasm backend:
 *
 *   gemm(a, b, c, m, n, p, lda, ldb, ldc)    C[m x p] = A[m x n] B[n x p], m % 4 = p % 8 = 0
 *   scalar(a, b, c, m, n, p, lda, ldb, ldc)  the same for any m, p, one element at a time
 *
 * row-major, pointers are byte offsets into the backend's heap, ld* are row strides in floats.
 * `product` covers any shape with the two. The module imports the backend's memory and works
 * where the tensors live.
 *
 * Why: XNNPACK, the backend's product, packs its right operand on every call (tfjs does not keep
 * a packed weight across steps: every step's kernel is a new tensor). When that operand is a
 * 128 x 128 kernel and the left one 32 rows of a batch, packing costs as much as the product
 * (docs/performance.md). This kernel reads B in place: blocks of 4 rows x 8 columns of C, each
 * accumulated in eight f32x4 registers over k = 0 .. n-1 as acc + a[i,k] * b[k,j] (a multiply,
 * then an add, both correctly rounded, from +0). That is the order and the operations of
 * XNNPACK's f32 GEMM micro-kernels, so the results are bit-identical to the backend's own
 * product of the same operands; test/wasm/gemm.test.ts checks it.
 */
import { body, F32, F32_ADD, F32_LOAD, F32_MUL, F32_STORE, F32X4_ADD, F32X4_MUL, get, I32, I32_ADD, i32Const, I32_SHL, instantiateOver, loop, name, section, set, simd, u32, V128, vec } from './assembler.js';

const I32_MUL = [0x6c];
/** memarg: alignment 1 (member slices need not be 16-byte aligned), then the byte offset. */
const v128Load = (offset: number): number[] => [...simd(0x00), 0x00, ...u32(offset)];
const v128Store = (offset: number): number[] => [...simd(0x0b), 0x00, ...u32(offset)];
const V128_LOAD32_SPLAT = [...simd(0x09), 0x02, 0x00];
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const F32_ZERO = [0x43, 0x00, 0x00, 0x00, 0x00];
const tee = (i: number): number[] => [0x22, ...u32(i)];

/** `while (i < limit) { code; i += step }`, limit a local. */
const forLoop = (i: number, limit: number, step: number, code: number[]): number[] => loop(i, get(limit), step, () => code);

function gemmBody(): number[] {
  // Params: 0 a, 1 b, 2 c, 3 m, 4 n, 5 p, 6 lda, 7 ldb, 8 ldc.
  const [a, b, c, m, n, p, lda, ldb, ldc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals 9..: column block j, row block i, k, the four row pointers of A, the B pointer,
  // the C pointer, the byte strides of A and B and C rows.
  const [j, i, k, pa0, pa1, pa2, pa3, pb, pc, lda4, ldb4, ldc4] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  // v128 locals 21..: accumulators (row r, half h) at 21 + 2r + h, then b0, b1, the splat of a.
  const acc = (r: number, h: number): number => 21 + 2 * r + h;
  const [b0, b1, av] = [29, 30, 31];
  const rows = [pa0, pa1, pa2, pa3];
  const bytes = (x: number): number[] => [...get(x), ...i32Const(2), ...I32_SHL];
  const inner = [
    ...get(pb), ...v128Load(0), ...set(b0),
    ...get(pb), ...v128Load(16), ...set(b1),
    ...rows.flatMap((row, r) => [
      ...get(row), ...V128_LOAD32_SPLAT, ...set(av),
      ...get(acc(r, 0)), ...get(av), ...get(b0), ...F32X4_MUL, ...F32X4_ADD, ...set(acc(r, 0)),
      ...get(acc(r, 1)), ...get(av), ...get(b1), ...F32X4_MUL, ...F32X4_ADD, ...set(acc(r, 1)),
      ...get(row), ...i32Const(4), ...I32_ADD, ...set(row),
    ]),
    ...get(pb), ...get(ldb4), ...I32_ADD, ...set(pb),
  ];
  const block = [
    // Row pointers of A for rows i .. i+3, from column 0; B from column j; accumulators at +0.
    ...get(a), ...get(i), ...get(lda4), ...I32_MUL, ...I32_ADD, ...tee(pa0),
    ...get(lda4), ...I32_ADD, ...tee(pa1),
    ...get(lda4), ...I32_ADD, ...tee(pa2),
    ...get(lda4), ...I32_ADD, ...set(pa3),
    ...get(b), ...bytes(j), ...I32_ADD, ...set(pb),
    ...[0, 1, 2, 3].flatMap((r) => [...V128_ZERO, ...set(acc(r, 0)), ...V128_ZERO, ...set(acc(r, 1))]),
    ...i32Const(0), ...set(k),
    ...forLoop(k, n, 1, inner),
    ...get(c), ...get(i), ...get(ldc4), ...I32_MUL, ...I32_ADD, ...bytes(j), ...I32_ADD, ...set(pc),
    ...[0, 1, 2, 3].flatMap((r) => [
      ...get(pc), ...get(acc(r, 0)), ...v128Store(0),
      ...get(pc), ...get(acc(r, 1)), ...v128Store(16),
      ...get(pc), ...get(ldc4), ...I32_ADD, ...set(pc),
    ]),
  ];
  return body(
    [
      [12, I32],
      [11, V128],
    ],
    [
      ...bytes(lda), ...set(lda4),
      ...bytes(ldb), ...set(ldb4),
      ...bytes(ldc), ...set(ldc4),
      ...i32Const(0), ...set(i),
      // Column blocks outside, row blocks inside: an 8-column panel of B stays in cache across the rows of A.
      // Row blocks outside, column blocks inside: four rows of A stay in cache while B streams past.
      ...forLoop(i, m, 4, [...i32Const(0), ...set(j), ...forLoop(j, p, 8, block)]),
    ],
  );
}

/** Every element on its own, for the rows and columns the 4 x 8 blocks leave over: the same sum in the same order, one lane wide. */
function scalarBody(): number[] {
  const [a, b, c, m, n, p, lda, ldb, ldc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, k, pa, pb, lda4, ldb4, ldc4] = [9, 10, 11, 12, 13, 14, 15, 16];
  const sum = 17;
  const bytes = (x: number): number[] => [...get(x), ...i32Const(2), ...I32_SHL];
  const inner = [
    ...get(sum), ...get(pa), ...F32_LOAD, ...get(pb), ...F32_LOAD, ...F32_MUL, ...F32_ADD, ...set(sum),
    ...get(pa), ...i32Const(4), ...I32_ADD, ...set(pa),
    ...get(pb), ...get(ldb4), ...I32_ADD, ...set(pb),
  ];
  const element = [
    ...get(a), ...get(i), ...get(lda4), ...I32_MUL, ...I32_ADD, ...set(pa),
    ...get(b), ...bytes(j), ...I32_ADD, ...set(pb),
    ...F32_ZERO, ...set(sum),
    ...i32Const(0), ...set(k),
    ...forLoop(k, n, 1, inner),
    ...get(c), ...get(i), ...get(ldc4), ...I32_MUL, ...I32_ADD, ...bytes(j), ...I32_ADD, ...get(sum), ...F32_STORE,
  ];
  return body(
    [
      [8, I32],
      [1, F32],
    ],
    [
      ...bytes(lda), ...set(lda4),
      ...bytes(ldb), ...set(ldb4),
      ...bytes(ldc), ...set(ldc4),
      ...i32Const(0), ...set(i),
      ...forLoop(i, m, 1, [...i32Const(0), ...set(j), ...forLoop(j, p, 1, element)]),
    ],
  );
}

/** The module's bytes. */
export function gemmModuleBytes(): Uint8Array {
  const gemmType = [0x60, ...vec(Array.from({ length: 9 }, () => [I32])), 0x00];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([gemmType])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0x00], [0x00]])),
    ...section(7, vec([[...name('gemm'), 0x00, 0x00], [...name('scalar'), 0x00, 0x01]])),
    ...section(10, [...u32(2), ...gemmBody(), ...scalarBody()]),
  ];
  return Uint8Array.from(bytes);
}

/** The module's exports: `gemm` for whole 4 x 8 blocks, `scalar` for any shape (the same arithmetic, one element at a time). */
export interface GemmModule {
  gemm(a: number, b: number, c: number, m: number, n: number, p: number, lda: number, ldb: number, ldc: number): void;
  scalar(a: number, b: number, c: number, m: number, n: number, p: number, lda: number, ldb: number, ldc: number): void;
}

/**
 * Whether the blocked kernel covers enough of an m x p output to be worth it: the rows and
 * columns it leaves over run one element at a time, several times slower.
 */
export function gemmWorthIt(m: number, p: number): boolean {
  const covered = (m - (m % 4)) * (p - (p % 8));
  return covered > 0 && covered >= 0.75 * m * p;
}

/**
 * C[m x p] = A[m x n] B[n x p] for dense row-major operands at byte offsets a, b, c (rows of
 * n, p and p floats): the 4 x 8 blocks on `gemm`, the rows and columns left over on `scalar`.
 */
export function product(mod: GemmModule, a: number, b: number, c: number, m: number, n: number, p: number): void {
  const m4 = m - (m % 4);
  const p8 = p - (p % 8);
  if (m4 > 0 && p8 > 0) mod.gemm(a, b, c, m4, n, p8, n, p, p);
  if (p8 < p && m4 > 0) mod.scalar(a, b + 4 * p8, c + 4 * p8, m4, n, p - p8, n, p, p);
  if (m4 < m) mod.scalar(a + 4 * m4 * n, b, c + 4 * m4 * p, m - m4, n, p, n, p, p);
}

/**
 * `count` products C_i = A_i B_i of m x n by n x p, the operands' matrices consecutive from byte
 * offsets a and b (or one matrix for all when `sharedA` / `sharedB`), C_i consecutive from c.
 */
export function products(mod: GemmModule, a: number, b: number, c: number, m: number, n: number, p: number, count: number, sharedA: boolean, sharedB: boolean): void {
  for (let i = 0; i < count; i++) product(mod, a + (sharedA ? 0 : i * m * n * 4), b + (sharedB ? 0 : i * n * p * 4), c + i * m * p * 4, m, n, p);
}

/** Instantiate the module over `memory` (the wasm backend's WebAssembly.Memory). */
export function instantiateGemmModule(memory: object): GemmModule {
  return instantiateOver(gemmModuleBytes(), memory) as GemmModule;
}
