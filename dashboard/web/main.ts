/**
 * The dashboard in the browser: a hash router over three pages (#/ sweeps, #/sweeps/<id>,
 * #/trials/<taskId>). Each page returns its clean-up (close the event stream, release charts).
 */
import './app.css';
import { ApiError } from './api.js';
import { fill, h } from './dom.js';
import { sweepPage } from './sweep-page.js';
import { sweepsPage } from './sweeps-page.js';
import { trialPage } from './trial-page.js';

declare global {
  interface Window {
    /** performance.now() when the first page finished drawing (read by the benchmark and tests). */
    npfFirstRender?: number;
    /** performance.now() when the current page finished drawing. */
    npfRendered?: number;
  }
}

const root = document.getElementById('app')!;
let cleanup: (() => void) | undefined;
let generation = 0;

async function route(): Promise<void> {
  const mine = ++generation;
  cleanup?.();
  cleanup = undefined;
  const path = location.hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    let done: () => void;
    if (parts.length === 0) done = await sweepsPage(root);
    else if (parts[0] === 'sweeps' && parts[1]) done = await sweepPage(root, parts[1]);
    else if (parts[0] === 'trials' && parts[1]) done = await trialPage(root, parts[1]);
    else {
      fill(root, h('h1', {}, 'Not found'), h('p', {}, `No page at ${path}. `, h('a', { href: '#/' }, 'All sweeps')));
      done = () => undefined;
    }
    if (mine !== generation) {
      done();
      return;
    }
    cleanup = done;
    window.npfRendered = performance.now();
    window.npfFirstRender ??= window.npfRendered;
    document.body.dataset.page = parts[0] ?? 'sweeps';
  } catch (e) {
    if (mine !== generation) return;
    const message = e instanceof ApiError ? e.message : String(e);
    fill(root, h('h1', {}, 'Cannot show this page'), h('p', { class: 'error', role: 'alert' }, message), h('p', {}, h('a', { href: '#/' }, 'All sweeps')));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
