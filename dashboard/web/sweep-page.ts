/**
 * One sweep: its line, the results table (results.md as it fills in), the figures, the trial
 * grid and the event log. Live: every pushed event refreshes what it can change.
 */
import type { FigureView, SweepResponse } from '../api-types.js';
import { enc, getJson } from './api.js';
import { fill, h } from './dom.js';
import { EventLogView } from './event-log-view.js';
import { drawFigure } from './figure-view.js';
import { duration, throttle, time } from './format.js';
import { follow } from './live.js';
import { resultsView } from './results-view.js';
import { countsView } from './sweeps-page.js';
import { TrialGridView } from './trial-grid-view.js';

export async function sweepPage(root: HTMLElement, sweepId: string): Promise<() => void> {
  const summary = h('div', { class: 'summary', id: 'sweep-summary' });
  const results = h('section', { class: 'results-section', id: 'results' });
  const figures = h('section', { class: 'figures', id: 'figures' });
  const title = h('h1', {}, '');
  const first = await getJson<SweepResponse>(`/api/sweeps/${enc(sweepId)}`);
  const grid = new TrialGridView(sweepId, first.regimes);
  const log = new EventLogView(sweepId);
  fill(root, h('nav', { class: 'crumbs' }, h('a', { href: '#/' }, 'Sweeps'), ' / ', sweepId), title, summary, results, figures, grid.el, log.el);

  let shownFigures = '';
  let finalizers: Array<() => void> = [];
  const drawFigures = async (list: FigureView[], notes: string[]): Promise<void> => {
    const key = JSON.stringify(list.map((f) => f.vega));
    if (key === shownFigures) return;
    shownFigures = key;
    const drawn = await Promise.all(list.map((f) => drawFigure(f)));
    finalizers.forEach((f) => f());
    finalizers = drawn.map((d) => d.finalize);
    fill(figures, h('h2', {}, 'Figures'), ...notes.map((n) => h('p', { class: 'muted' }, n)), h('div', { class: 'figure-list' }, ...drawn.map((d) => d.el)));
  };

  const draw = async (data: SweepResponse): Promise<void> => {
    const s = data.sweep;
    title.textContent = s.name;
    fill(
      summary,
      h('span', { class: `badge ${s.state}` }, s.state),
      countsView(s),
      h('span', {}, `${s.done}/${s.total} trials done`),
      h('span', {}, `started ${time(s.createdAtMs)}`),
      h('span', {}, `elapsed ${duration(s.elapsedMs)}`),
      s.etaMs ? h('span', {}, `ETA ${duration(s.etaMs)}`) : null,
      h('span', { class: 'muted' }, s.fileName),
    );
    fill(results, h('h2', {}, 'Results'), resultsView(data.results));
    grid.setRegimes(data.regimes);
    await drawFigures(data.figures, data.figureNotes);
  };

  await draw(first);
  await Promise.all([grid.refresh(), log.load(false)]);
  // The newest event pushed; a view older than it (served from the server's cache) is asked for again.
  let seen = first.lastEventSeq;
  const refreshSweep = throttle(
    () =>
      void getJson<SweepResponse>(`/api/sweeps/${enc(sweepId)}`).then(async (data) => {
        await draw(data);
        if (data.lastEventSeq < seen) refreshSweep();
      }),
    1500,
  );
  const refreshGrid = throttle(
    () =>
      void grid.refresh().then((at) => {
        if (at < seen) refreshGrid();
      }),
    1000,
  );
  const stop = follow(sweepId, first.lastEventSeq, (e) => {
    seen = Math.max(seen, e.seq);
    log.push(e);
    refreshGrid();
    refreshSweep();
  });
  return () => {
    stop();
    refreshSweep.cancel();
    refreshGrid.cancel();
    finalizers.forEach((f) => f());
  };
}
