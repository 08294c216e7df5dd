/**
 * The arithmetic floor of a fused step (bench/fusion-bench.ts prints it): FC 784-128x5-10's 2-D
 * products alone, timed with the stacked kernel, and the Table 2 MNIST projection they imply.
 */
import * as tf from '@tensorflow/tfjs-core';
import { stackedMatMul } from '../science/fused/stacked-matmul.js';
import { project, type Costs } from './fusion-projection.js';

/** Per member, ms: a ReLU-shaped step, a DNPFL step, 1000 test images of each; and the ReLU step's GFLOP/s. */
export interface ProductFloor {
  relu: number;
  dnpfl: number;
  evalRelu: number;
  evalDnpfl: number;
  gflopsPerS: number;
}

/**
 * The arithmetic floor: the 2-D products of one member's step alone (every other op left out),
 * timed at the stack's shapes with the stacked kernel, K = k. Per member: ms for a ReLU-shaped
 * step (ReLU, and FRNPF / FLNPF with cached gates: the value network's products), for a DNPFL
 * step (plus the feature network's forward, weight and input gradients), and for the forward
 * products of 1000 test images (value network; DNPFL: both).
 */
export async function timeProductFloor(k: number, batch: number): Promise<ProductFloor> {
  const [inputs, width, depth, outputs] = [784, 128, 5, 10];
  // [m, n, p] of each product a [m, n] x b [n, p], in the kernel-transposed orientation of stacked-ops.ts.
  const forward = (b: number): number[][] => [[width, inputs, b], ...Array.from({ length: depth - 1 }, () => [width, width, b])];
  const weightGrads = (b: number): number[][] => [[width, b, inputs], ...Array.from({ length: depth - 1 }, () => [width, b, width])];
  const inputGrads = (b: number): number[][] => Array.from({ length: depth - 1 }, () => [b, width, width]);
  const head = (b: number): number[][] => [[outputs, width, b], [outputs, b, width], [b, outputs, width]];
  const featureStep = [...forward(batch), ...weightGrads(batch), ...inputGrads(batch)];
  const reluStep = [...featureStep, ...head(batch)];
  const shapes = { relu: reluStep, dnpfl: [...reluStep, ...featureStep], evalRelu: [...forward(1000), [outputs, width, 1000]], evalDnpfl: [...forward(1000), ...forward(1000), [outputs, width, 1000]] };
  const flops = (list: number[][]): number => list.reduce((a, [m, n, p]) => a + 2 * m * n * p, 0);
  const time = async (list: number[][], reps: number): Promise<number> => {
    const operands = list.map(([m, n, p]) => [tf.randomUniform([k, m, n]), tf.randomUniform([k, n, p])]);
    const once = (): tf.Tensor[] => operands.map(([a, b]) => stackedMatMul(a, b));
    for (const t of once()) t.dispose();
    const t0 = performance.now();
    let last: tf.Tensor[] = [];
    for (let r = 0; r < reps; r++) {
      for (const t of last) t.dispose();
      last = once();
    }
    await Promise.all(last.map((t) => t.data()));
    const ms = (performance.now() - t0) / reps / k;
    for (const t of [...last, ...operands.flat()]) t.dispose();
    return ms;
  };
  const relu = await time(shapes.relu, 40);
  return {
    relu,
    dnpfl: await time(shapes.dnpfl, 40),
    evalRelu: await time(shapes.evalRelu, 3),
    evalDnpfl: await time(shapes.evalDnpfl, 3),
    gflopsPerS: flops(shapes.relu) / (relu * 1e6),
  };
}

/** The sweeps' projected hours (stacks of up to `k`) if every step were nothing but its products. */
export function floorHours(p: ProductFloor, k: number): number {
  const cost = (step: number, ev: number): Costs => ({ stepU: step, evalU: ev, fused: new Map([[k, { step, eval: ev }]]) });
  const costs = new Map<string, Costs>();
  for (const o of ['sgd', 'adam']) {
    costs.set(`relu/${o}`, cost(p.relu, p.evalRelu));
    costs.set(`frnpf-ii/${o}`, cost(p.relu, p.evalRelu));
    costs.set(`dnpfl/${o}`, cost(p.dnpfl, p.evalDnpfl));
  }
  return project(costs, k).fused_hours;
}
