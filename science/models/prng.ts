/**
 * Seeded pseudo-random numbers for everything a trial draws (initial weights, shuffles), so a
 * trial's randomness depends only on its seed, never on the backend or on tfjs' global state.
 */

/** A stream of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** splitmix32 finaliser: a well-mixed 32-bit hash of a 32-bit input. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Seed of an independent sub-stream: the trial seed combined with a purpose label
 * ('value', 'feature', 'shuffle'...), so adding a new consumer never shifts the others.
 */
export function deriveSeed(seed: number, label: string): number {
  let h = mix32(seed >>> 0);
  for (let i = 0; i < label.length; i++) h = mix32(h ^ label.charCodeAt(i));
  return h;
}

/** mulberry32: small, fast, good enough for initialisation and shuffling. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** The stream for one purpose of one trial. */
export function rngFor(seed: number, label: string): Rng {
  return mulberry32(deriveSeed(seed, label));
}

/** Fisher-Yates permutation of 0..n-1 drawn from `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
