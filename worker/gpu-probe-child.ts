/**
 * Entry point of the worker's GPU probe (`node dist/worker/gpu-probe-child.js`): lists the
 * WebGPU adapters and the CUDA devices, prints one GpuProbeReport as JSON on stdout, exits.
 * Dawn's own warnings go to stderr, which the worker ignores.
 */
import { cudaDeviceCount, installedBackends } from '../science/backend/installed-backends.js';
import { probeWebgpu } from '../science/backend/dawn.js';
import type { GpuProbeReport } from './gpu-inventory.js';

const report: GpuProbeReport = { webgpu: await probeWebgpu(), cudaDevices: cudaDeviceCount(), tensorflowGpu: installedBackends().tensorflowGpu };
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
