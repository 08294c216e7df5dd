/**
 * The WebGPU worker image has the Vulkan loader and the driver capabilities that make the NVIDIA
 * runtime mount its Vulkan driver (its overlay is checked with the others in k8s.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './tools.js';

describe('deploy - WebGPU worker variant', () => {
  it('deploy/docker - the webgpu image installs with npm ci, adds the Vulkan loader, and asks for the graphics capability', () => {
    const file = readFileSync(join(ROOT, 'deploy/docker/worker-webgpu.Dockerfile'), 'utf8');
    expect(file).toMatch(/npm ci/);
    expect(file).not.toMatch(/tfjs-node/);
    expect(file).toMatch(/apt-get install[^\n]*libvulkan1/);
    expect(file).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
    expect(file).toMatch(/"--backend", "webgpu"/);
  });
});
