/**
 * The GPU worker image's package.json, derived from the repository's: the same runtime
 * dependencies plus @tensorflow/tfjs-node-gpu (which cannot be a dependency of npf-sweep itself:
 * it installs only where libtensorflow with CUDA can). Its lockfile,
 * deploy/docker/gpu/package-lock.json, pins tfjs-node-gpu and everything it pulls in, so the
 * image's `npm ci` installs exactly what was locked. Regenerate both with `npm run gen:gpu-lock`
 * after changing package.json's dependencies; a test fails when they drift apart.
 */

/** tfjs-node-gpu's version: tfjs-core's (the science core loads it beside tfjs-core 4.22). */
export const TFJS_NODE_GPU = { name: '@tensorflow/tfjs-node-gpu', version: '4.22.0' } as const;
export const GPU_PACKAGE_DIR = 'deploy/docker/gpu';

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Root package.json -> the GPU image's: runtime fields only, plus tfjs-node-gpu. */
export function gpuPackageJson(root: PackageJson): PackageJson {
  return {
    name: `${root.name}-worker-gpu`,
    version: root.version,
    private: true,
    description: `Runtime dependencies of the ${root.name} GPU worker image (generated from package.json by npm run gen:gpu-lock).`,
    type: root.type,
    license: root.license,
    engines: root.engines,
    dependencies: Object.fromEntries(
      Object.entries({ ...root.dependencies, [TFJS_NODE_GPU.name]: TFJS_NODE_GPU.version }).sort(([a], [b]) => a.localeCompare(b)),
    ),
  };
}
