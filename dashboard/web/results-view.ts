/** results.md as it stands, drawn as HTML tables (cells exactly as in the file). */
import type { ResultsBlock } from '../api-types.js';
import { h, type Child } from './dom.js';

/** `*paper*` is emphasis in the Markdown. */
function cellContent(text: string): Child {
  const m = /^\*(.+)\*$/.exec(text);
  return m ? h('em', {}, m[1]) : text;
}

export function resultsView(blocks: readonly ResultsBlock[]): HTMLElement {
  const root = h('div', { class: 'results' });
  for (const b of blocks) {
    if (b.kind === 'heading') root.appendChild(h('h3', {}, b.text));
    else if (b.kind === 'text') root.appendChild(h('p', { class: b.text.startsWith('- ') ? 'note item' : 'note' }, b.text));
    else {
      const head = h('tr', {}, ...b.head.map((c, i) => h('th', { class: b.align[i] === 'right' ? 'num' : '' }, c)));
      const rows = b.rows.map((r) => h('tr', { class: r.paper ? 'paper' : '' }, ...r.cells.map((c, i) => h('td', { class: b.align[i] === 'right' ? 'num' : '' }, cellContent(c)))));
      root.appendChild(h('div', { class: 'scroll' }, h('table', { class: 'results-table' }, h('thead', {}, head), h('tbody', {}, ...rows))));
    }
  }
  return root;
}
