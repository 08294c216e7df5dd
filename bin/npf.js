#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('npf: dist/ is missing; run `npm ci` (or `npm run build`) in the npf-sweep checkout first.');
  process.exit(2);
}
await import(entry.href);
