/** A strict RFC 4180 reader for the tests of the CSV outputs. */

/** A strict CSV reader: throws on a ragged row, a stray quote or an unclosed field. */
export function parseCsvStrict(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let fieldStart = true;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== '\n') throw new Error(`character after a closing quote at ${i}`);
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (!fieldStart) throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      fieldStart = false;
      i++;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      fieldStart = true;
      i++;
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStart = true;
      i++;
    } else if (ch === '\r') {
      throw new Error(`carriage return at ${i}`);
    } else {
      field += ch;
      fieldStart = false;
      i++;
    }
  }
  if (quoted) throw new Error('unclosed quoted field');
  if (field !== '' || row.length > 0) throw new Error('the last line has no line end');
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, n) => {
    if (r.length !== width) throw new Error(`row ${n} has ${r.length} fields, the header ${width}`);
  });
  return rows;
}

/** Rows after the header as records keyed by the header's names. */
export function csvRecords(text: string): Array<Record<string, string>> {
  const [head, ...rows] = parseCsvStrict(text);
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}
