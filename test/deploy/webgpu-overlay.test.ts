/**
 * The WebGPU worker variant: its overlay renders (the schema and wiring checks of every overlay
 * run in k8s.test.ts) and asks for what WebGPU on an NVIDIA node needs; its image has the Vulkan
 * loader and the driver capabilities that make the NVIDIA runtime mount its Vulkan driver.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, kustomize } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- walking untyped rendered YAML */

describe('deploy - WebGPU worker variant', () => {
  it('deploy/k8s - the gpu-webgpu overlay: one nvidia.com/gpu per pod, --gpus 1 --backend webgpu, graphics capability, the webgpu image', () => {
    const dep: any = kustomize('deploy/k8s/overlays/gpu-webgpu').find((o) => o.kind === 'Deployment' && o.metadata.name === 'npf-worker');
    const spec = dep.spec.template.spec;
    const c = spec.containers.find((x: any) => x.name === 'worker');
    const flag = (f: string) => c.args[c.args.indexOf(f) + 1];
    expect(String(c.resources.limits['nvidia.com/gpu'])).toBe('1');
    expect(flag('--gpus')).toBe('1');
    expect(flag('--backend')).toBe('webgpu');
    expect(c.image).toMatch(/worker-webgpu/);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(String(env.NVIDIA_DRIVER_CAPABILITIES).split(',')).toContain('graphics');
    expect(env.XDG_RUNTIME_DIR).toBe('/tmp');
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toContain('/tmp'); // writable under readOnlyRootFilesystem
    expect(env.NPF_TOKEN).toBeDefined(); // the base's env survives the patch
    expect(spec.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu' }));
  });

  it('deploy/docker - the webgpu image installs with npm ci, adds the Vulkan loader, and asks for the graphics capability', () => {
    const file = readFileSync(join(ROOT, 'deploy/docker/worker-webgpu.Dockerfile'), 'utf8');
    expect(file).toMatch(/npm ci/);
    expect(file).not.toMatch(/tfjs-node/);
    expect(file).toMatch(/apt-get install[^\n]*libvulkan1/);
    expect(file).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
    expect(file).toMatch(/"--backend", "webgpu"/);
  });
});
