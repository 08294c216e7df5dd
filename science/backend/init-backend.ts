/**
 * Loading and activating a TensorFlow.js backend in Node. tfjs-node(-gpu) is optional: it is
 * imported dynamically, and nothing fails when it is absent unless it was asked for.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackendName } from '../types.js';
import { chooseBackend, type BackendChoice, type InstalledBackends } from './backend-choice.js';
import { BackendUnavailableError } from './errors.js';

const require = createRequire(import.meta.url);

function resolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Which optional backends this process could import (resolution only; nothing is loaded). */
export function installedBackends(): InstalledBackends {
  return { tensorflowGpu: resolvable('@tensorflow/tfjs-node-gpu'), tensorflow: resolvable('@tensorflow/tfjs-node') };
}

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

/**
 * Make the backend for `requested` the active tfjs backend (process-wide: tfjs keeps one active
 * backend) and say which one it is.
 */
export async function initBackend(requested: BackendName, hasConv: boolean, installed: InstalledBackends = installedBackends()): Promise<BackendChoice> {
  const decision = chooseBackend(requested, hasConv, installed);
  if (!decision.ok) throw new BackendUnavailableError(decision.reason, { requested });
  const choice = decision.choice;
  switch (choice.backend) {
    case 'wasm':
      await activateWasm();
      break;
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
