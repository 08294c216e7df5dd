/**
 * Timing of the nu_t measurement at the protocol's size: n = 200 inputs of 784 pixels, 5 hidden
 * layers of width 100 (docs/protocol.md "NPK experiment"). Random 0/1 gates and inputs, seeded.
 * Run: npx vite-node bench/npk-bench.ts
 */
import { npkFromGates } from '../science/npk/npk-from-gates.js';
import { nuFromNpk } from '../science/npk/nu.js';
import { symmetricEigenvalues } from '../science/npk/symmetric-eigen.js';
import { mulberry32 } from '../science/models/prng.js';

/** Seeded uniform numbers in [0, 1): the project's mulberry32 (science/models/prng.ts). */
function rng(seed: number): () => number {
  const r = mulberry32(seed);
  return () => r.next();
}

function time<T>(label: string, f: () => T, reps = 5): T {
  let out = f(); // warm-up
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) out = f();
  console.log(`${label}: ${((performance.now() - t0) / reps).toFixed(1)} ms`);
  return out;
}

const rand = rng(1);
for (const n of [200, 400]) {
  const dIn = 784;
  const width = 100;
  const hidden = 5;
  const X = Float32Array.from({ length: n * dIn }, () => rand());
  const gates = Array.from({ length: hidden }, () => Float32Array.from({ length: n * width }, () => (rand() < 0.5 ? 1 : 0)));
  const y = Float64Array.from({ length: n }, (_, i) => (i < n / 2 ? -1 : 1));
  const { h } = time(`n=${n} npkFromGates (dIn=${dIn}, w=${width}, d-1=${hidden})`, () => npkFromGates(gates, width, X, n, dIn));
  time(`n=${n} symmetricEigenvalues`, () => symmetricEigenvalues(h, n));
  const r = time(`n=${n} nuFromNpk (eigenvalues + eigenvectors)`, () => nuFromNpk(h, y));
  console.log(`n=${n} nu=${r.nu === null ? 'undefined' : r.nu.toPrecision(6)} rank=${r.rank} cond=${r.conditionNumber.toExponential(3)} method=${r.method}`);
}
