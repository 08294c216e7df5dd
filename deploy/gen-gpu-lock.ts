/**
 * `npm run gen:gpu-lock`: writes deploy/docker/gpu/package.json from package.json
 * (gpu-package.ts) and locks it with `npm install --package-lock-only --ignore-scripts`
 * (registry metadata only: nothing is installed, no libtensorflow is downloaded).
 * Run from the repository root.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GPU_PACKAGE_DIR, gpuPackageJson } from './docker/gpu-package.js';

const root = process.cwd();
const dir = resolve(root, GPU_PACKAGE_DIR);
const pkg = gpuPackageJson(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
console.log(`wrote ${GPU_PACKAGE_DIR}/package.json and package-lock.json`);
