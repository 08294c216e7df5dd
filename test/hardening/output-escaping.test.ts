/** Issue 12 finding 9: what a sweep's labels or a worker's error text can do to each output format. */
import { describe, expect, it } from 'vitest';
import { csvField } from '../../coordinator/results/csv-field.js';
import { tex } from '../../coordinator/results/format-table-latex.js';
import { esc } from '../../coordinator/results/format-table-markdown.js';
import { formatEvent, sanitizeForTerminal } from '../../events/format-event.js';

describe('output escaping (issue 12, finding 9)', () => {
  it('CSV: a formula-looking text gets a leading quote and quotes; CR forces quoting; numbers stay numbers', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('+1+cmd')).toBe(`"'+1+cmd"`);
    expect(csvField('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvField('\tx')).toBe(`"'\tx"`);
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField('-0.5')).toBe('-0.5');
    expect(csvField(-0.5)).toBe('-0.5');
    expect(csvField('relu')).toBe('relu');
  });

  it('LaTeX: every special character escaped, so \\input and \\write18 print as text', () => {
    expect(tex('\\input{/etc/passwd}')).toBe('\\textbackslash{}input\\{/etc/passwd\\}');
    expect(tex('a^b~c')).toBe('a\\textasciicircum{}b\\textasciitilde{}c');
    expect(tex('50% & $x$ #1 _')).toBe('50\\% \\& \\$x\\$ \\#1 \\_');
    expect(tex('two\nlines')).toBe('two lines');
    expect(tex('\\write18{rm -rf /}')).not.toMatch(/\\write18/);
  });

  it('Markdown: a cell cannot end its row or carry raw HTML', () => {
    expect(esc('a|b')).toBe('a\\|b');
    expect(esc('x\n| injected | row |')).toBe('x \\| injected \\| row \\|');
    expect(esc('<img src=x onerror=alert(1)>')).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(esc('a\\|b')).toBe('a\\\\\\|b');
  });

  it('terminal: escape sequences and line breaks in an event never reach the terminal', () => {
    expect(sanitizeForTerminal('\x1b]0;owned\x07ok\r\nfake line')).toBe(']0;ownedok  fake line');
    const line = formatEvent(
      { type: 'task.failed', sweepId: 's', taskId: 'abcdef0123', payload: { attempt: 1, reason: 'error', message: 'boom\r11:00:00  sweep complete: 30 succeeded\x1b[2J\x1b]0;owned\x07' } } as never,
      { time: false },
    );
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(line).toContain('boom 11:00:00  sweep complete: 30 succeeded[2J]0;owned');
  });
});
