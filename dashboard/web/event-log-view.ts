/** A sweep's event log, newest first, filtered by type and trial; new events arrive live. */
import { EVENT_TYPES, type EventItem, type EventsResponse } from '../api-types.js';
import { enc, getJson } from './api.js';
import { fill, h } from './dom.js';
import { shortId, time } from './format.js';

const PAGE = 200;
/** Rows kept on the page (older ones come back with "older"). */
const KEEP = 1000;

function row(e: EventItem): HTMLElement {
  return h(
    'li',
    { class: `event ${e.type.replace('.', '-')}`, 'data-seq': e.seq },
    h('span', { class: 'time' }, time(Date.parse(e.time))),
    h('span', { class: 'type' }, e.type),
    e.taskId ? h('a', { class: 'task', href: `#/trials/${enc(e.taskId)}` }, shortId(e.taskId)) : h('span', { class: 'task' }),
    h('span', { class: 'text' }, e.text),
  );
}

export class EventLogView {
  readonly el: HTMLElement;
  private type = '';
  private task = '';
  private oldest: number | null = null;
  private readonly list = h('ol', { class: 'events', id: 'event-log' });
  private readonly more: HTMLButtonElement;

  constructor(private readonly sweepId: string) {
    const typeSelect = h('select', { id: 'event-type', 'aria-label': 'event type', onchange: (e: Event) => this.filter({ type: (e.target as HTMLSelectElement).value }) }, h('option', { value: '' }, 'all events'), ...EVENT_TYPES.map((t) => h('option', { value: t }, t)));
    const taskInput = h('input', { id: 'event-task', type: 'search', placeholder: 'task id', onchange: (e: Event) => this.filter({ task: (e.target as HTMLInputElement).value.trim() }) });
    this.more = h('button', { type: 'button', id: 'event-older', onclick: () => void this.load(true) }, 'older events');
    this.el = h('section', { class: 'log' }, h('h2', {}, 'Events'), h('div', { class: 'toolbar' }, typeSelect, taskInput), this.list, this.more);
  }

  private filter(f: { type?: string; task?: string }): void {
    Object.assign(this, f);
    void this.load(false);
  }

  private matches(e: EventItem): boolean {
    return (!this.type || e.type === this.type) && (!this.task || e.taskId === this.task);
  }

  /** The newest page (or, with `older`, the page before the oldest shown). */
  async load(older: boolean): Promise<void> {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (this.type) q.set('type', this.type);
    if (this.task) q.set('task', this.task);
    if (older && this.oldest !== null) q.set('before', String(this.oldest));
    const data = await getJson<EventsResponse>(`/api/sweeps/${enc(this.sweepId)}/events?${q}`);
    const rows = data.events.map(row);
    if (older) rows.forEach((r) => this.list.appendChild(r));
    else fill(this.list, ...rows);
    if (data.events.length) this.oldest = data.events.at(-1)!.seq;
    else if (!older) this.oldest = null;
    this.more.hidden = data.events.length < PAGE;
  }

  /** A live event: shown on top when it passes the filters. */
  push(e: EventItem): void {
    if (!this.matches(e)) return;
    if (this.list.querySelector(`[data-seq="${e.seq}"]`)) return;
    this.list.prepend(row(e));
    while (this.list.children.length > KEEP) this.list.lastElementChild!.remove();
  }
}
