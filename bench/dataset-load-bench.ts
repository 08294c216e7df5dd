/**
 * Timing of loadDataset on the real files: a cold load (read, gunzip for Fashion-MNIST, parse,
 * scale to float32) and a warm one (decoded files cached, only the float32 copy is made), plus
 * the NPK subset of binary MNIST. Each cold figure uses a fresh DatasetCache.
 * Run: npx vite-node bench/dataset-load-bench.ts
 */
import { DatasetCache, loadDataset } from '../science/datasets/index.js';
import type { DatasetSpec } from '../science/types.js';

async function time(label: string, spec: DatasetSpec, cache: DatasetCache): Promise<void> {
  const t0 = performance.now();
  const ds = await loadDataset(spec, { cache });
  const ms = performance.now() - t0;
  const mib = (ds.train.x.byteLength + ds.test.x.byteLength) / 2 ** 20;
  console.log(`${label}: ${ms.toFixed(0)} ms (train ${ds.train.n}, test ${ds.test.n}, x ${mib.toFixed(0)} MiB)`);
}

for (const name of ['mnist', 'fashion-mnist'] as const) {
  const cache = new DatasetCache();
  await time(`${name} cold`, { name }, cache);
  await time(`${name} warm`, { name }, cache);
  await time(`${name} warm`, { name }, cache);
}
const cache = new DatasetCache();
await time('binary-mnist cold', { name: 'binary-mnist' }, cache);
await time('binary-mnist trainSubset perClass 100 warm', { name: 'binary-mnist', trainSubset: { perClass: 100 } }, cache);
console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, node ${process.version}`);
