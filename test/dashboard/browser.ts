/**
 * Test and benchmark helper: Debian's headless Chromium (/usr/bin/chromium, installed by
 * .ci/run) driven by playwright-core. Nothing is downloaded: playwright-core ships no browser and
 * is pointed at the system one, with a fresh profile directory per launch.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { ROOT } from '../e2e/harness.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Where tests keep their screenshots (gitignored; CI may collect it). */
export const ARTIFACTS = resolve(ROOT, 'test-artifacts');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1400, height: 1000 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (.ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'npf-chromium-'));
  // A persistent context is how playwright takes a --user-data-dir of our own: a fresh one each time.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
