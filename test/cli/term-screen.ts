/**
 * A minimal terminal for display tests: what a fixed-width terminal shows after some output.
 * Handles printable characters with auto-wrap at the width, CR, LF, cursor up (ESC [ n A),
 * erase below (ESC [ J) and erase line (ESC [ K); other escape sequences (colours) are ignored.
 * Records each line that wrapped (a line longer than the width).
 */
export class TermScreen {
  readonly lines: string[] = [''];
  readonly wrapped: string[] = [];
  private row = 0;
  private col = 0;

  constructor(readonly width: number) {}

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '\x1b') {
        // eslint-disable-next-line no-control-regex
        const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(text.slice(i));
        if (!m) continue;
        i += m[0].length - 1;
        const n = Number(m[1] || '1');
        if (m[2] === 'A') this.row = Math.max(0, this.row - n);
        else if (m[2] === 'J') {
          this.lines[this.row] = this.lines[this.row].slice(0, this.col);
          this.lines.length = this.row + 1;
        } else if (m[2] === 'K') this.lines[this.row] = this.lines[this.row].slice(0, this.col);
      } else if (c === '\r') this.col = 0;
      else if (c === '\n') this.down();
      else if (c >= ' ') {
        if (this.col >= this.width) {
          this.wrapped.push(this.lines[this.row]);
          this.down();
          this.col = 0;
        }
        const line = this.lines[this.row].padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + c + line.slice(this.col + 1);
        this.col++;
      }
    }
  }

  private down(): void {
    this.row++;
    if (this.row >= this.lines.length) this.lines.push('');
  }

  /** The lines shown, trailing blank ones dropped. */
  text(): string[] {
    const out = this.lines.map((l) => l.trimEnd());
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  }
}
