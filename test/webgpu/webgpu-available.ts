/**
 * The WebGPU tests run on whatever adapter Dawn finds; in CI and on a developer machine without
 * a GPU that is Mesa's lavapipe (.ci/run installs Mesa 25 from bookworm-backports). They never
 * skip: without an adapter they fail with this message.
 */
import { probeWebgpu } from '../../science/backend/webgpu-device.js';
import { describeAdapter, NO_ADAPTER_HINT } from '../../science/backend/gpu-adapter.js';

/** Resolves with the adapters' one-line descriptions, or rejects saying how to get one. */
export async function requireWebgpuAdapter(): Promise<string[]> {
  const probe = await probeWebgpu();
  if (!probe.ok || probe.adapters.length === 0) {
    const why = probe.ok ? 'Dawn lists no adapter' : probe.reason;
    throw new Error(`the WebGPU tests need a WebGPU adapter (${why}); ${NO_ADAPTER_HINT}`);
  }
  return probe.adapters.map(describeAdapter);
}
