#!/usr/bin/env node
// Re-pin base and third-party images to the digests their tags point at now:
//   node deploy/docker/pin-images.mjs            # rewrite the pins in place, print what changed
//   node deploy/docker/pin-images.mjs --check    # exit 1 when a pin is not the tag's digest
// Pins live in two places: `ARG *_IMAGE=repo:tag@sha256:...` lines of deploy/docker/*.Dockerfile,
// and the `images:` list (name, newTag, digest) of deploy/k8s/base/kustomization.yaml.
// Digests are resolved with `crane digest` when crane is on PATH, else `docker buildx imagetools
// inspect` (both ask the registry for the tag's index digest, which covers every platform).
// Then review the diff, rebuild the images, run the tests and commit.
/* global process, console -- a Node script */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const check = process.argv.includes('--check');

function has(bin) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function resolveDigest(ref) {
  const out = has('crane')
    ? execFileSync('crane', ['digest', ref], { encoding: 'utf8' })
    : execFileSync('docker', ['buildx', 'imagetools', 'inspect', ref, '--format', '{{.Manifest.Digest}}'], { encoding: 'utf8' });
  const digest = out.trim();
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`${ref}: unexpected digest '${digest}'`);
  return digest;
}

let stale = 0;
function note(where, ref, from, to) {
  if (from === to) return;
  stale++;
  console.log(`${where}: ${ref} ${from ?? '(no digest)'} -> ${to}`);
}

const dockerDir = join(root, 'deploy/docker');
for (const f of readdirSync(dockerDir).filter((x) => x.endsWith('.Dockerfile'))) {
  const file = join(dockerDir, f);
  const text = readFileSync(file, 'utf8');
  const next = text.replace(/^(ARG [A-Z_]+_IMAGE=)([^@\s]+)@(sha256:[0-9a-f]{64})$/gm, (line, arg, ref, digest) => {
    const now = resolveDigest(ref);
    note(`deploy/docker/${f}`, ref, digest, now);
    return `${arg}${ref}@${now}`;
  });
  if (!check && next !== text) writeFileSync(file, next);
}

const kfile = join(root, 'deploy/k8s/base/kustomization.yaml');
const doc = parseDocument(readFileSync(kfile, 'utf8'));
for (const image of doc.get('images').items) {
  const ref = `${image.get('name')}:${image.get('newTag')}`;
  const now = resolveDigest(ref);
  note('deploy/k8s/base/kustomization.yaml', ref, image.get('digest'), now);
  image.set('digest', now);
}
if (!check) writeFileSync(kfile, doc.toString());
if (check && stale > 0) process.exit(1);
console.log(stale === 0 ? 'all pins are current' : `${stale} pin(s) ${check ? 'stale' : 'updated'}`);
