/** Results (table, stages, curves) -> JSON for the figure code: stable, 2-space indented, NaN/Infinity as null. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
