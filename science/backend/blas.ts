/**
 * The machine's OpenBLAS, called in-process through koffi (a foreign-function interface whose
 * npm package carries prebuilt binaries: nothing is compiled or downloaded at install time).
 *
 * Why: the WebAssembly backend's matrix products run on 128-bit wasm SIMD without fused
 * multiply-add, about 15-21 GFLOP/s on one core of a modern x86 server; OpenBLAS's native kernels
 * (AVX2/AVX-512 with FMA) do the same products 4-5x faster. The 'wasm-blas' backend keeps
 * everything else on tfjs-backend-wasm and computes its products here (wasm-products.ts), on the
 * wasm heap in place: no copies.
 *
 * OpenBLAS is used single-threaded (one worker slot per core is how npf-sweep uses a machine),
 * which also keeps a product's summation order fixed. The kernel OpenBLAS picks depends on the
 * CPU (its DYNAMIC_ARCH core), so bit-for-bit results hold on one kind of machine; the core is
 * recorded with each trial's backend note.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BackendUnavailableError } from './errors.js';

const require = createRequire(import.meta.url);

/** The library koffi opens: NPF_BLAS_LIBRARY (a path or a soname), else OpenBLAS's soname. */
export const DEFAULT_BLAS_LIBRARY = 'libopenblas.so.0';

export const BLAS_INSTALL_HINT = 'install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0) or set NPF_BLAS_LIBRARY to a libopenblas path';

const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/opt/homebrew/opt/openblas/lib'];

/** Row-major single-precision product C = op(A) op(B), op = transpose when asked (cblas_sgemm, beta 0). */
export type Sgemm = (transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number) => void;

export interface Blas {
  sgemm: Sgemm;
  /** What was opened and which kernels it runs, e.g. 'libopenblas.so.0 (OpenBLAS 0.3.21, Haswell)'. */
  describe: string;
}

export type BlasPresence = { ok: true; library: string } | { ok: false; reason: string };

function koffiResolvable(): boolean {
  try {
    require.resolve('koffi');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether 'wasm-blas' can run here, found without loading anything: koffi resolves and the
 * library file exists (a bare soname is looked for in the usual library directories; a path
 * must exist as given).
 */
export function blasPresence(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync, hasKoffi: () => boolean = koffiResolvable): BlasPresence {
  if (!hasKoffi()) return { ok: false, reason: "the optional npm package 'koffi' is not installed (npm install koffi@2.12.4)" };
  const library = env.NPF_BLAS_LIBRARY?.trim() || DEFAULT_BLAS_LIBRARY;
  if (library.includes('/')) {
    return exists(library) ? { ok: true, library } : { ok: false, reason: `NPF_BLAS_LIBRARY names ${library}, which does not exist` };
  }
  const found = LIBRARY_DIRS.some((dir) => exists(`${dir}/${library}`));
  return found ? { ok: true, library } : { ok: false, reason: `${library} was not found in ${LIBRARY_DIRS.join(', ')}: ${BLAS_INSTALL_HINT}` };
}

interface KoffiLib {
  func(signature: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

let loaded: Blas | undefined;

/** Open the library once per process (throws BackendUnavailableError with the reason). */
export function loadBlas(env: NodeJS.ProcessEnv = process.env): Blas {
  if (loaded) return loaded;
  const presence = blasPresence(env);
  if (!presence.ok) throw new BackendUnavailableError(`backend 'wasm-blas' is not available: ${presence.reason}`, { requested: 'wasm-blas' });
  let lib: KoffiLib;
  try {
    lib = (require('koffi') as Koffi).load(presence.library);
  } catch (err) {
    throw new BackendUnavailableError(`backend 'wasm-blas': ${presence.library} failed to load: ${(err as Error).message}`, { requested: 'wasm-blas' }, { cause: err });
  }
  let raw: (...args: unknown[]) => unknown;
  try {
    raw = lib.func('void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)');
  } catch (err) {
    throw new BackendUnavailableError(`backend 'wasm-blas': ${presence.library} has no cblas_sgemm: ${(err as Error).message}`, { requested: 'wasm-blas' }, { cause: err });
  }
  const optional = (signature: string): ((...args: unknown[]) => unknown) | undefined => {
    try {
      return lib.func(signature);
    } catch {
      return undefined;
    }
  };
  // One thread: a pthread/OpenMP build would otherwise start one per core in every worker slot.
  optional('void openblas_set_num_threads(int n)')?.(1);
  const config = optional('const char *openblas_get_config()')?.() as string | undefined;
  const core = optional('const char *openblas_get_corename()')?.() as string | undefined;
  const version = config?.match(/OpenBLAS\s+\S+/)?.[0];
  const details = [version, core].filter(Boolean).join(', ');
  loaded = {
    describe: details ? `${presence.library} (${details})` : presence.library,
    sgemm: (transA, transB, m, n, k, a, lda, b, ldb, c, ldc) => {
      raw(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
    },
  };
  return loaded;
}
