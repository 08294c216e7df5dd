/**
 * The trial grid of a sweep: sortable (click a header), filterable (state, regime, text), one
 * page at a time from the server, so it stays quick at 10,000 trials.
 */
import type { GridSortKey, TrialGridItem, TrialGridResponse } from '../api-types.js';
import { enc, getJson } from './api.js';
import { fill, h, sparkline } from './dom.js';
import { pct, shortId } from './format.js';

const COLUMNS: Array<{ key: GridSortKey; label: string; num?: boolean }> = [
  { key: 'label', label: 'Trial' },
  { key: 'state', label: 'State' },
  { key: 'attempt', label: 'Attempt', num: true },
  { key: 'worker', label: 'Worker' },
  { key: 'backend', label: 'Backend' },
  { key: 'epoch', label: 'Epoch', num: true },
  { key: 'current', label: 'Test acc', num: true },
  { key: 'best', label: 'Best', num: true },
];

const STATES = ['running', 'leased', 'pending', 'blocked', 'succeeded', 'failed', 'cancelled'];

export const PAGE = 100;

function row(t: TrialGridItem): HTMLElement {
  return h(
    'tr',
    { 'data-task': t.taskId, 'data-state': t.state },
    h('td', {}, h('a', { href: `#/trials/${enc(t.taskId)}` }, t.label), h('div', { class: 'muted small' }, shortId(t.taskId))),
    h('td', {}, h('span', { class: `badge ${t.state}`, title: t.error ?? '' }, t.state)),
    h('td', { class: 'num' }, t.attempt),
    h('td', {}, t.worker ?? '—'),
    h('td', {}, t.backend ?? '—'),
    h('td', { class: 'num epoch' }, t.epochs ? `${t.epoch}/${t.epochs}` : String(t.epoch)),
    h('td', { class: 'num' }, pct(t.current)),
    h('td', { class: 'num' }, pct(t.best)),
    h('td', {}, sparkline(t.curve)),
  );
}

export class TrialGridView {
  readonly el: HTMLElement;
  private sort: GridSortKey = 'seq';
  private desc = false;
  private offset = 0;
  private state = '';
  private regime = '';
  private text = '';
  private readonly body = h('tbody');
  private readonly info = h('span', { class: 'muted', id: 'grid-info' });
  private readonly head = h('tr');
  private readonly regimeSelect: HTMLSelectElement;
  private loading: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly sweepId: string,
    regimes: readonly string[],
  ) {
    const stateSelect = h('select', { id: 'grid-state', 'aria-label': 'state', onchange: (e: Event) => this.set({ state: (e.target as HTMLSelectElement).value }) }, h('option', { value: '' }, 'any state'), ...STATES.map((s) => h('option', { value: s }, s)));
    this.regimeSelect = h('select', { id: 'grid-regime', 'aria-label': 'regime', onchange: (e: Event) => this.set({ regime: (e.target as HTMLSelectElement).value }) }, h('option', { value: '' }, 'any regime'), ...regimes.map((r) => h('option', { value: r }, r)));
    let typing: number | undefined;
    const search = h('input', {
      id: 'grid-search',
      type: 'search',
      placeholder: 'filter: label, task id, worker, error',
      oninput: (e: Event) => {
        window.clearTimeout(typing);
        const v = (e.target as HTMLInputElement).value;
        typing = window.setTimeout(() => this.set({ text: v }), 250);
      },
    });
    const prev = h('button', { type: 'button', id: 'grid-prev', onclick: () => this.page(-1) }, '‹ previous');
    const next = h('button', { type: 'button', id: 'grid-next', onclick: () => this.page(1) }, 'next ›');
    this.drawHead();
    this.el = h(
      'section',
      { class: 'trials' },
      h('h2', {}, 'Trials'),
      h('div', { class: 'toolbar' }, stateSelect, this.regimeSelect, search, h('span', { class: 'spacer' }), prev, this.info, next),
      h('div', { class: 'scroll' }, h('table', { class: 'grid', id: 'trial-grid' }, h('thead', {}, this.head), this.body)),
    );
  }

  private drawHead(): void {
    fill(
      this.head,
      ...COLUMNS.map((c) =>
        h(
          'th',
          { class: `sortable${c.num ? ' num' : ''}`, 'data-sort': c.key, 'aria-sort': this.sort === c.key ? (this.desc ? 'descending' : 'ascending') : 'none', onclick: () => this.sortBy(c.key) },
          c.label,
          this.sort === c.key ? (this.desc ? ' ▼' : ' ▲') : '',
        ),
      ),
      h('th', {}, 'Curve'),
    );
  }

  private sortBy(key: GridSortKey): void {
    if (this.sort === key) this.desc = !this.desc;
    else {
      this.sort = key;
      this.desc = key === 'best' || key === 'current';
    }
    this.offset = 0;
    this.drawHead();
    void this.refresh();
  }

  private set(f: { state?: string; regime?: string; text?: string }): void {
    Object.assign(this, f);
    this.offset = 0;
    void this.refresh();
  }

  private matched = 0;

  private page(dir: number): void {
    const next = this.offset + dir * PAGE;
    if (next < 0 || next >= Math.max(this.matched, 1)) return;
    this.offset = next;
    void this.refresh();
  }

  setRegimes(regimes: readonly string[]): void {
    const have = [...this.regimeSelect.options].map((o) => o.value);
    for (const r of regimes) if (!have.includes(r)) this.regimeSelect.appendChild(h('option', { value: r }, r));
  }

  /** The event sequence the shown page is as of. */
  private asOf = 0;

  /** Load the current page (one request at a time; a call meanwhile loads once more after it). Resolves to the sequence it is as of. */
  refresh(): Promise<number> {
    if (this.loading) {
      this.again = true;
      return this.loading.then(() => this.asOf);
    }
    const q = new URLSearchParams({ offset: String(this.offset), limit: String(PAGE), sort: this.sort, dir: this.desc ? 'desc' : 'asc' });
    if (this.state) q.set('state', this.state);
    if (this.regime) q.set('regime', this.regime);
    if (this.text) q.set('q', this.text);
    this.loading = getJson<TrialGridResponse>(`/api/sweeps/${enc(this.sweepId)}/trials?${q}`)
      .then((data) => {
        this.asOf = data.lastEventSeq;
        this.matched = data.matched;
        fill(this.body, ...(data.rows.length ? data.rows.map(row) : [h('tr', {}, h('td', { colspan: COLUMNS.length + 1, class: 'muted' }, 'No trial matches.'))]));
        const last = Math.min(data.offset + data.rows.length, data.matched);
        this.info.textContent = data.matched ? `${data.offset + 1}–${last} of ${data.matched}${data.matched !== data.total ? ` (of ${data.total})` : ''}` : `0 of ${data.total}`;
      })
      .finally(() => {
        this.loading = null;
        if (this.again) {
          this.again = false;
          void this.refresh();
        }
      });
    return this.loading.then(() => this.asOf);
  }
}
