/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break (CR included);
 * empty for none or a non-finite number. A text that a spreadsheet would run as a formula
 * (starting with =, +, -, @, tab or CR, and not a plain number) gets a leading ' and quotes.
 */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  let s = String(v);
  let quote = /[",\r\n]/.test(s);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !NUMBER.test(s)) {
    s = `'${s}`;
    quote = true;
  }
  return quote ? `"${s.replace(/"/g, '""')}"` : s;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** Lines of fields -> CSV text (header first, '\n' line ends, a final newline). */
export function csvText(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  return `${[header.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n')}\n`;
}
