/**
 * The image recipes (deploy/docker), checked offline (no Docker engine here):
 * - every base image is pinned by digest; the pins are rewritten by pin-images.mjs (run here
 *   against a stand-in `crane`);
 * - dependencies are installed from the lockfiles before the sources are copied, so a source
 *   change never reinstalls them (nor re-downloads libtensorflow in the GPU image);
 * - the GPU image's lockfile is package.json's runtime dependencies plus a locked tfjs-node-gpu;
 * - the images run the Node major that CI tests besides the machine's.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPU_PACKAGE_DIR, TFJS_NODE_GPU, gpuPackageJson } from '../../deploy/docker/gpu-package.js';
import { ROOT } from './tools.js';

const DOCKER = join(ROOT, 'deploy/docker');
const dockerfiles = readdirSync(DOCKER).filter((f) => f.endsWith('.Dockerfile'));
const read = (f: string) => readFileSync(join(DOCKER, f), 'utf8');
const PINNED = /^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$/;

/** Instructions of a Dockerfile, continuation lines joined. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** FROM references that are neither earlier stages nor pinned ARGs: floating base images. */
function unpinnedFroms(text: string): string[] {
  const ins = instructions(text);
  const args = new Map(ins.filter((l) => l.startsWith('ARG ')).map((l) => l.slice(4).split('=') as [string, string]));
  const stages = new Set<string>();
  const bad: string[] = [];
  for (const l of ins.filter((x) => x.startsWith('FROM '))) {
    const [, ref, , stage] = l.split(/\s+/);
    const arg = /^\$\{([A-Z_]+)\}$/.exec(ref)?.[1];
    const resolved = arg ? args.get(arg) : ref;
    if (!stages.has(ref) && !(resolved && PINNED.test(resolved))) bad.push(ref);
    if (stage) stages.add(stage);
  }
  return bad;
}

/** Per stage: the instructions, to check what each installs and copies. */
function stages(text: string): { name: string; ins: string[] }[] {
  const out: { name: string; ins: string[] }[] = [];
  for (const l of instructions(text)) {
    if (l.startsWith('FROM ')) out.push({ name: l.split(/\s+/)[3] ?? 'final', ins: [] });
    else out.at(-1)?.ins.push(l);
  }
  return out;
}

describe('deploy/docker - base images', () => {
  it.each(dockerfiles)('deploy/docker - %s: every base image is pinned by digest', (f) => {
    expect(unpinnedFroms(read(f))).toEqual([]);
  });

  it('deploy/docker - the pin check bites on floating tags and on a tag without digest', () => {
    expect(unpinnedFroms('FROM node:24-bookworm-slim AS a\nFROM a\n')).toEqual(['node:24-bookworm-slim']);
    expect(unpinnedFroms('ARG X_IMAGE=node:24.1.0-bookworm-slim\nFROM ${X_IMAGE}\n')).toEqual(['${X_IMAGE}']);
    expect(unpinnedFroms(`ARG X_IMAGE=node:24@sha256:${'a'.repeat(64)}\nFROM \${X_IMAGE} AS b\nFROM b\n`)).toEqual([]);
  });

  it('deploy/docker - the images run Node 24, the newest LTS line CI tests', () => {
    for (const f of dockerfiles) expect(read(f), f).toMatch(/ARG NODE_IMAGE=node:24\.\d+\.\d+-bookworm-slim@sha256:/);
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/node-version\.sh 24\b/);
  });

  it('deploy/docker - pin-images.mjs rewrites every pin to the digest its tag resolves to, keeping comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npf-pin-'));
    try {
      mkdirSync(join(dir, 'deploy/k8s/base'), { recursive: true });
      cpSync(DOCKER, join(dir, 'deploy/docker'), { recursive: true });
      cpSync(join(ROOT, 'deploy/k8s/base/kustomization.yaml'), join(dir, 'deploy/k8s/base/kustomization.yaml'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      // A stand-in crane: the digest is sha256 of the reference, so each ref gets its own.
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin/crane'), '#!/bin/sh\n[ "$1" = digest ] || exit 2\necho "$2" >> "$(dirname "$0")/asked"\nprintf "sha256:%s\\n" "$(printf %s "$2" | sha256sum | cut -c1-64)"\n');
      chmodSync(join(dir, 'bin/crane'), 0o755);
      const run = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'deploy/docker/pin-images.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } });
      const check = run('--check');
      expect(check.status, check.stderr).toBe(1);
      const write = run();
      expect(write.status, write.stderr).toBe(0);
      const sha = (ref: string) => `sha256:${spawnSync('sha256sum', { input: ref, encoding: 'utf8' }).stdout.slice(0, 64)}`;
      const asked = readFileSync(join(dir, 'bin/asked'), 'utf8').trim().split('\n');
      expect(asked).toEqual(expect.arrayContaining(['natsio/prometheus-nats-exporter:0.17.3', 'nats:2.10.29-alpine', 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04']));
      const gpu = readFileSync(join(dir, 'deploy/docker/worker-gpu.Dockerfile'), 'utf8');
      expect(gpu).toContain(`ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04@${sha('nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04')}`);
      const k = readFileSync(join(dir, 'deploy/k8s/base/kustomization.yaml'), 'utf8');
      expect(k).toContain(`digest: ${sha('natsio/prometheus-nats-exporter:0.17.3')}`);
      expect(k).toContain('# Third-party images, pinned by digest');
      expect(run('--check').status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/docker - layer order', () => {
  it.each(dockerfiles)('deploy/docker - %s: lockfiles are installed before any source is copied; the dependency stage never sees the sources', (f) => {
    const all = stages(read(f));
    const deps = all.find((s) => s.name === 'deps')!;
    expect(deps, 'a deps stage').toBeDefined();
    expect(deps.ins.filter((l) => l.startsWith('COPY ')).every((l) => /package(-lock)?\.json/.test(l) && !/ \. \.$/.test(l)), 'deps copies only package*.json').toBe(true);
    expect(deps.ins.some((l) => /npm ci --omit=dev/.test(l))).toBe(true);
    const build = all.find((s) => s.name === 'build')!;
    const firstSource = build.ins.findIndex((l) => l === 'COPY . .');
    const install = build.ins.findIndex((l) => /^RUN npm ci/.test(l));
    const lock = build.ins.findIndex((l) => /^COPY package\.json package-lock\.json/.test(l));
    expect(lock).toBeGreaterThanOrEqual(0);
    expect(lock).toBeLessThan(install);
    expect(install).toBeLessThan(firstSource);
    // The final image takes node_modules from deps, never from a stage that copied the sources.
    const final = all.at(-1)!;
    expect(final.ins).toContain('COPY --from=deps /app/node_modules ./node_modules');
  });

  it('deploy/docker - the GPU image installs tfjs-node-gpu from its lockfile only', () => {
    const gpu = read('worker-gpu.Dockerfile');
    const deps = stages(gpu).find((s) => s.name === 'deps')!;
    expect(deps.ins).toContain(`COPY ${GPU_PACKAGE_DIR}/package.json ${GPU_PACKAGE_DIR}/package-lock.json ./`);
    expect(gpu).not.toMatch(/npm install[^\n]*tfjs-node-gpu/);
  });
});

describe('deploy/docker - the GPU lockfile', () => {
  const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const gpuPkg = JSON.parse(readFileSync(join(ROOT, GPU_PACKAGE_DIR, 'package.json'), 'utf8'));
  const gpuLock = JSON.parse(readFileSync(join(ROOT, GPU_PACKAGE_DIR, 'package-lock.json'), 'utf8'));

  it('deploy/docker - gpu/package.json is package.json\'s runtime dependencies plus tfjs-node-gpu (npm run gen:gpu-lock)', () => {
    expect(gpuPkg).toEqual(JSON.parse(JSON.stringify(gpuPackageJson(rootPkg))));
    expect(gpuPkg.scripts, 'no prepare/build script runs in the image install').toBeUndefined();
  });

  it('deploy/docker - the lock matches its package.json and locks tfjs-node-gpu with an integrity hash', () => {
    expect(gpuLock.packages[''].dependencies).toEqual(gpuPkg.dependencies);
    const tf = gpuLock.packages[`node_modules/${TFJS_NODE_GPU.name}`];
    expect(tf.version).toBe(TFJS_NODE_GPU.version);
    expect(tf.integrity).toMatch(/^sha512-/);
    expect(tf.resolved ?? '').not.toMatch(/^file:/);
  });

  it('deploy/docker - every direct runtime dependency is locked at the version of the repository lockfile', () => {
    for (const dep of Object.keys(rootPkg.dependencies)) {
      expect(gpuLock.packages[`node_modules/${dep}`]?.version, dep).toBe(rootLock.packages[`node_modules/${dep}`].version);
    }
    expect(rootPkg.dependencies[TFJS_NODE_GPU.name], 'tfjs-node-gpu stays out of package.json').toBeUndefined();
  });
});
