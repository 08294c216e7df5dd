/**
 * One figure drawn by vega in the page (SVG), with the CSP-safe expression interpreter (no eval:
 * the page's Content-Security-Policy forbids it), hover values in a tooltip of our own (text
 * only), and series switched on and off from the legend (the spec's `series` selection).
 */
import { parse, View, type Spec } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import type { FigureView } from '../api-types.js';
import { h } from './dom.js';

let tip: HTMLDivElement | undefined;

function tooltipEl(): HTMLDivElement {
  if (!tip || !tip.isConnected) {
    tip = h('div', { class: 'tooltip', role: 'tooltip', hidden: true });
    document.body.appendChild(tip);
  }
  return tip;
}

function show(event: MouseEvent, value: unknown): void {
  const el = tooltipEl();
  if (value === null || value === undefined || value === '') {
    el.hidden = true;
    return;
  }
  el.replaceChildren();
  const entries = typeof value === 'object' ? Object.entries(value as Record<string, unknown>) : [['', value]];
  for (const [k, v] of entries) {
    const row = h('div', {}, k ? h('b', {}, `${k}: `) : null, typeof v === 'number' ? String(Math.round(v * 1e4) / 1e4) : String(v));
    el.appendChild(row);
  }
  el.hidden = false;
  el.style.left = `${event.pageX + 12}px`;
  el.style.top = `${event.pageY + 12}px`;
}

/** Draw `figure` into a new element; `finalize` releases the view. */
export async function drawFigure(figure: FigureView): Promise<{ el: HTMLElement; finalize: () => void }> {
  const holder = h('div', { class: 'chart' });
  const el = h('figure', { class: 'figure', 'data-figure': figure.name }, holder, figure.seriesField ? h('figcaption', {}, 'Click a legend entry to show that series alone (shift-click: several; click elsewhere: all).') : null);
  const view = new View(parse(figure.vega as Spec, undefined, { ast: true }), {
    expr: expressionInterpreter,
    renderer: 'svg',
    container: holder,
    hover: true,
  });
  view.tooltip((_handler: unknown, event: MouseEvent, _item: unknown, value: unknown) => show(event, value));
  await view.runAsync();
  return {
    el,
    finalize: () => {
      view.finalize();
      if (tip) tip.hidden = true;
    },
  };
}
