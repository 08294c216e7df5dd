/**
 * What this machine has for the backend decision, found without loading anything: which
 * optional tfjs-node packages resolve, and how many NVIDIA devices this process sees.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { InstalledBackends } from './backend-choice.js';
import { blasPresence } from './blas.js';

const require = createRequire(import.meta.url);

function resolvable(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * NVIDIA devices this process can use: the /dev/nvidiaN device files (what the NVIDIA container
 * runtime mounts), less what CUDA_VISIBLE_DEVICES hides.
 */
export function cudaDeviceCount(env: NodeJS.ProcessEnv = process.env, devDir = '/dev'): number {
  let files: string[];
  try {
    files = readdirSync(devDir).filter((f) => /^nvidia\d+$/.test(f));
  } catch {
    return 0;
  }
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible === undefined) return files.length;
  const ids = visible.split(',').map((s) => s.trim()).filter((s) => s !== '');
  // CUDA stops at the first invalid entry ('-1' hides everything).
  const valid = ids.findIndex((s) => s === '-1');
  return Math.min(files.length, valid < 0 ? ids.length : valid);
}

/** Which optional backends this process could import (resolution and file checks only; nothing is loaded). */
export function installedBackends(): InstalledBackends {
  return { tensorflowGpu: resolvable('@tensorflow/tfjs-node-gpu'), tensorflow: resolvable('@tensorflow/tfjs-node'), cudaDevices: cudaDeviceCount(), blas: blasPresence() };
}

