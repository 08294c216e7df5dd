/**
 * Pure: results.md (the Markdown the results module writes) -> blocks the page draws: headings,
 * tables with their cells exactly as in the file, and lines of text. Only the Markdown that
 * coordinator/results/ writes is understood: `### ` headings, pipe tables with an alignment row,
 * and plain lines; the escapes of its cells (backslash before \ and |, & < > as entities) are
 * undone, so the page shows the text itself (as text: the page never parses it as HTML).
 */
import type { ResultsBlock } from './api-types.js';

/** `&lt;` `&gt;` `&amp;` back to `<` `>` `&` (one pass, so `&amp;lt;` stays `&lt;`). */
export function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&' })[e]!);
}

/** The cells of one `| a | b |` line, unescaped. */
export function splitRow(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\' && (body[i + 1] === '|' || body[i + 1] === '\\')) {
      cur += body[i + 1];
      i++;
    } else if (ch === '|') {
      cells.push(decodeEntities(cur.trim()));
      cur = '';
    } else {
      cur += ch;
    }
  }
  cells.push(decodeEntities(cur.trim()));
  return cells;
}

const isAlignRow = (cells: string[]): boolean => cells.length > 0 && cells.every((c) => /^:?-{3,}:?$/.test(c));

export function markdownBlocks(markdown: string): ResultsBlock[] {
  const blocks: ResultsBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (line.startsWith('### ')) {
      blocks.push({ kind: 'heading', text: decodeEntities(line.slice(4).trim()) });
      continue;
    }
    if (line.startsWith('|') && lines[i + 1]?.startsWith('|') && isAlignRow(splitRow(lines[i + 1]))) {
      const head = splitRow(line);
      const align = splitRow(lines[i + 1]).map((c) => (c.endsWith(':') ? 'right' : 'left') as 'left' | 'right');
      const rows: Array<{ cells: string[]; paper: boolean }> = [];
      i += 2;
      for (; i < lines.length && lines[i].startsWith('|'); i++) {
        const cells = splitRow(lines[i]);
        rows.push({ cells, paper: cells.some((c) => /^\*paper.*\*$/.test(c)) });
      }
      i--;
      blocks.push({ kind: 'table', head, align, rows });
      continue;
    }
    blocks.push({ kind: 'text', text: decodeEntities(line) });
  }
  return blocks;
}
