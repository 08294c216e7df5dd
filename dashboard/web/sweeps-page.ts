/** The list of sweeps: name, state, trials by state, started, elapsed, ETA; live. */
import type { SweepSummary, SweepsResponse } from '../api-types.js';
import { enc, getJson } from './api.js';
import { fill, h } from './dom.js';
import { duration, throttle, time } from './format.js';
import { follow } from './live.js';

export function countsView(s: SweepSummary): HTMLElement {
  const order = ['running', 'leased', 'pending', 'blocked', 'succeeded', 'failed', 'cancelled'] as const;
  return h('span', { class: 'counts' }, ...order.filter((k) => s.counts[k] > 0).map((k) => h('span', { class: `badge ${k}`, title: k }, `${k} ${s.counts[k]}`)));
}

function row(s: SweepSummary): HTMLElement {
  return h(
    'tr',
    { 'data-sweep': s.sweepId },
    h('td', {}, h('a', { href: `#/sweeps/${enc(s.sweepId)}` }, s.name), h('div', { class: 'muted small' }, s.sweepId)),
    h('td', {}, h('span', { class: `badge ${s.state}` }, s.state)),
    h('td', {}, countsView(s)),
    h('td', { class: 'num' }, `${s.done}/${s.total}`),
    h('td', {}, time(s.createdAtMs)),
    h('td', { class: 'num' }, duration(s.elapsedMs)),
    h('td', { class: 'num' }, s.etaMs === 0 ? '—' : duration(s.etaMs)),
  );
}

export async function sweepsPage(root: HTMLElement): Promise<() => void> {
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'grid', id: 'sweeps' },
    h('thead', {}, h('tr', {}, ...['Sweep', 'State', 'Trials by state', 'Done', 'Started', 'Elapsed', 'ETA'].map((c) => h('th', {}, c)))),
    body,
  );
  fill(root, h('h1', {}, 'Sweeps'), table);
  const load = async (): Promise<number> => {
    const data = await getJson<SweepsResponse>('/api/sweeps');
    fill(body, ...(data.sweeps.length ? data.sweeps.map(row) : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No sweep in this store yet.'))]));
    return data.lastEventSeq;
  };
  const seq = await load();
  const refresh = throttle(() => void load(), 1000);
  const stop = follow(undefined, seq, () => refresh());
  return () => {
    stop();
    refresh.cancel();
  };
}
