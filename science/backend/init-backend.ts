/**
 * Loading and activating a TensorFlow.js backend in Node. tfjs-node(-gpu) is optional: it is
 * imported dynamically, and nothing fails when it is absent unless it was asked for. WebGPU
 * (Dawn) is a dependency but is loaded only when it is asked for or `auto` has to look for a
 * hardware adapter (webgpu-device.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackendName } from '../types.js';
import { chooseBackend, needsWebgpuProbe, type BackendChoice, type InstalledBackends, type WebgpuProbe } from './backend-choice.js';
import { installedBackends } from './installed-backends.js';
import { loadBlas } from './blas.js';
import { setWasmProducts } from './wasm-products.js';
import { BackendUnavailableError } from './errors.js';
import { activateWebgpu, probeWebgpu } from './webgpu-device.js';

export { cudaDeviceCount, installedBackends } from './installed-backends.js';

const require = createRequire(import.meta.url);

async function importOptional(pkg: string): Promise<void> {
  // A variable specifier keeps TypeScript from requiring the package's types at build time.
  const specifier: string = pkg;
  await import(specifier);
}

async function activate(name: string): Promise<boolean> {
  if (tf.getBackend() === name) return true;
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

async function activateWasm(): Promise<void> {
  if (await activate('wasm')) return;
  // Some bundlings cannot find the .wasm files next to the JS: point at the package's dist/.
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(pathToFileURL(dist).href.replace(/\/?$/, '/'));
  tf.removeBackend('wasm');
  if (!(await activate('wasm'))) throw new BackendUnavailableError('the wasm backend failed to initialise in this Node process');
}

export interface InitBackendOptions {
  /** Default: installedBackends(). */
  installed?: InstalledBackends;
  /** The GPU device index the trial was placed on (default 0; -1: none, so `auto` uses no GPU). */
  gpuIndex?: number;
  /** WebGPU adapter list (default: probeWebgpu(), only when the decision needs it). */
  probeWebgpu?: () => Promise<WebgpuProbe>;
}

/**
 * Make the backend for `requested` the active tfjs backend (process-wide: tfjs keeps one active
 * backend) and say which one it is.
 */
export async function initBackend(requested: BackendName, hasConv: boolean, opts: InitBackendOptions = {}): Promise<BackendChoice> {
  const installed = opts.installed ?? installedBackends();
  const probe = needsWebgpuProbe(requested, installed, opts.gpuIndex) ? await (opts.probeWebgpu ?? probeWebgpu)() : undefined;
  const decision = chooseBackend(requested, hasConv, installed, probe, opts.gpuIndex);
  if (!decision.ok) throw new BackendUnavailableError(decision.reason, { requested, gpuIndex: opts.gpuIndex });
  const choice = decision.choice;
  switch (choice.backend) {
    case 'webgpu':
      await activateWebgpu(choice.adapter!);
      break;
    case 'wasm':
      await activateWasm();
      setWasmProducts(undefined);
      break;
    case 'wasm-blas': {
      const blas = loadBlas();
      await activateWasm();
      setWasmProducts(blas);
      return { ...choice, note: [choice.note, `products on ${blas.describe}`].filter(Boolean).join('; ') };
    }
    case 'cpu':
      if (!(await activate('cpu'))) throw new BackendUnavailableError('the cpu backend failed to initialise');
      break;
    case 'tensorflow':
    case 'tensorflow-gpu': {
      const pkg = choice.backend === 'tensorflow' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
      try {
        await importOptional(pkg);
      } catch (err) {
        throw new BackendUnavailableError(`${pkg} is installed but failed to load: ${(err as Error).message}`, { requested }, { cause: err });
      }
      if (!tf.findBackend('tensorflow') || !(await activate('tensorflow'))) {
        throw new BackendUnavailableError(
          `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs-core; install a version matching tfjs-core ${tf.version_core}`,
          { requested },
        );
      }
      break;
    }
  }
  return choice;
}
