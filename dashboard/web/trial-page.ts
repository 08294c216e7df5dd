/**
 * One trial: curves per epoch, attempts with their errors, checkpoints with their hashes, the
 * resolved spec, and its lineage both ways (the ReLU parent and the checkpoint it gives; the
 * trials that take this trial's checkpoints). Live while it runs.
 */
import type { TrialLink, TrialResponse } from '../api-types.js';
import { enc, getJson } from './api.js';
import { fill, h } from './dom.js';
import { drawFigure } from './figure-view.js';
import { pct, throttle, time } from './format.js';
import { follow } from './live.js';

function trialLink(l: TrialLink, extra?: string): HTMLElement {
  return h('span', { class: 'link' }, h('a', { href: `#/trials/${enc(l.taskId)}`, 'data-task': l.taskId }, l.label), ' ', h('span', { class: `badge ${l.state}` }, l.state), extra ? h('span', { class: 'muted' }, ` ${extra}`) : null);
}

function table(head: string[], rows: Array<Array<string | number | Node>>, id: string): HTMLElement {
  return h('div', { class: 'scroll' }, h('table', { class: 'grid', id }, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c)))))));
}

export async function trialPage(root: HTMLElement, taskId: string): Promise<() => void> {
  let finalize: (() => void) | undefined;
  let shownCurve = '';
  const chart = h('div', { id: 'trial-chart' });

  const draw = async (t: TrialResponse): Promise<void> => {
    const lineage = h(
      'section',
      { class: 'lineage', id: 'lineage' },
      h('h2', {}, 'Lineage'),
      t.parent
        ? h('p', { id: 'parent' }, 'Gates from ', trialLink(t.parent), ` checkpoint '${t.parent.checkpoint ?? 'best'}' `, t.parent.sha256 ? h('code', { class: 'hash' }, t.parent.sha256) : h('span', { class: 'muted' }, '(not uploaded yet)'))
        : h('p', { class: 'muted' }, 'No parent: this trial makes its own gates.'),
      t.dependants.length
        ? h('div', { id: 'dependants' }, h('p', {}, `${t.dependants.length} trial(s) take their gates from this one:`), h('ul', {}, ...t.dependants.map((d) => h('li', {}, trialLink(d, d.checkpoint ? `(checkpoint '${d.checkpoint}')` : undefined)))))
        : h('p', { class: 'muted' }, 'No trial takes its gates from this one.'),
    );
    const facts = h(
      'dl',
      { class: 'facts', id: 'trial-facts' },
      h('dt', {}, 'state'),
      h('dd', {}, h('span', { class: `badge ${t.state}` }, t.state)),
      h('dt', {}, 'attempt'),
      h('dd', {}, `${t.attempt} (${t.tries} tries)`),
      h('dt', {}, 'worker'),
      h('dd', {}, t.worker ?? '—'),
      h('dt', {}, 'backend'),
      h('dd', {}, t.backend ?? '—'),
      h('dt', {}, 'epochs'),
      h('dd', { id: 'trial-epochs' }, `${t.curve.length}/${t.epochs ?? '?'}`),
      h('dt', {}, 'best test acc'),
      h('dd', {}, `${pct(t.bestAccuracy)}${t.bestEpoch !== null ? ` at epoch ${t.bestEpoch}` : ''}`),
      h('dt', {}, 'sweeps'),
      h('dd', {}, ...t.sweeps.map((s) => h('a', { href: `#/sweeps/${enc(s.sweepId)}` }, s.name))),
    );
    fill(
      root,
      h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, 'Sweeps'), ' / ', t.sweeps[0] ? h('a', { href: `#/sweeps/${enc(t.sweeps[0].sweepId)}` }, t.sweeps[0].name) : '', ' / ', t.taskId.slice(0, 12)),
      h('h1', {}, t.label),
      h('p', { class: 'muted small' }, t.taskId),
      facts,
      t.error ? h('pre', { class: 'error', id: 'trial-error' }, t.error) : null,
      lineage,
      h('section', {}, h('h2', {}, 'Curves'), t.curve.length ? chart : h('p', { class: 'muted' }, 'No epoch reported yet.')),
      h(
        'section',
        {},
        h('h2', {}, 'Attempts'),
        t.attempts.length
          ? table(['#', 'worker', 'started', 'ended', 'outcome', 'error'], t.attempts.map((a) => [a.attempt, a.workerId, time(a.startedAtMs), time(a.endedAtMs), a.outcome, a.error ? h('pre', { class: 'error' }, a.error) : '']), 'attempts')
          : h('p', { class: 'muted' }, 'Not leased yet.'),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Checkpoints'),
        t.checkpoints.length
          ? table(['name', 'epoch', 'test acc', 'sha256', 'bytes', 'attempt'], t.checkpoints.map((c) => [c.name, c.epoch, pct(c.testAccuracy), h('code', { class: 'hash' }, c.sha256), c.size, c.attempt]), 'checkpoints')
          : h('p', { class: 'muted' }, 'None stored.'),
      ),
      h('section', {}, h('h2', {}, 'Resolved spec'), h('pre', { class: 'spec', id: 'trial-spec' }, JSON.stringify(t.spec, null, 2))),
    );
    const key = JSON.stringify(t.curve);
    if (t.curve.length && t.figure && key !== shownCurve) {
      const d = await drawFigure(t.figure);
      finalize?.();
      finalize = d.finalize;
      fill(chart, d.el);
      shownCurve = key;
    }
  };

  const first = await getJson<TrialResponse>(`/api/trials/${enc(taskId)}`);
  // Each redraw moves the same chart element into the new page, so an unchanged chart is kept as drawn.
  await draw(first);
  const refresh = throttle(() => void getJson<TrialResponse>(`/api/trials/${enc(taskId)}`).then(draw), 500);
  const sweep = first.sweeps[0]?.sweepId;
  const stop = sweep ? follow(sweep, first.lastEventSeq, (e) => e.taskId === taskId && refresh()) : () => undefined;
  return () => {
    stop();
    refresh.cancel();
    finalize?.();
  };
}
