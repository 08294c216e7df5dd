/**
 * A small typed builder for Grafana dashboard JSON (schemaVersion 39, Prometheus targets only).
 * Pure: it returns plain objects; deploy/gen-monitoring.ts writes them to disk.
 * Panels are laid out left to right on Grafana's 24-column grid and wrap to a new line; a row
 * starts a new line.
 */

/** Grafana's dashboard schema version this builder writes. */
export const SCHEMA_VERSION = 39;

/** Every panel queries the Prometheus data source chosen by the `datasource` template variable. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export type Datasource = typeof DATASOURCE;

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface PrometheusTarget {
  refId: string;
  datasource: Datasource;
  expr: string;
  legendFormat: string;
  /** Instant queries feed tables and stats of the latest value; range queries feed time series. */
  instant: boolean;
  range: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
}

/** A query as a panel author writes it. */
export interface Query {
  expr: string;
  legend?: string;
  instant?: boolean;
  format?: PrometheusTarget['format'];
}

export type PanelType = 'timeseries' | 'stat' | 'bargauge' | 'table' | 'gauge';

export interface QueryPanel {
  id: number;
  type: PanelType;
  title: string;
  description: string;
  datasource: Datasource;
  gridPos: GridPos;
  targets: PrometheusTarget[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
  transformations?: unknown[];
}

export interface RowPanel {
  id: number;
  type: 'row';
  title: string;
  collapsed: false;
  gridPos: GridPos;
  panels: [];
}

export type Panel = QueryPanel | RowPanel;

/** What a panel author gives; the builder adds id, datasource, gridPos and refIds. */
export interface PanelSpec {
  type: PanelType;
  title: string;
  description: string;
  queries: Query[];
  /** Width in grid columns (1..24), default 12. */
  w?: number;
  /** Height in grid rows, default 8. */
  h?: number;
  unit?: string;
  min?: number;
  max?: number;
  /** Stack series (time series panels). */
  stacked?: boolean;
  options?: Record<string, unknown>;
  transformations?: unknown[];
}

export interface TemplateVariable {
  name: string;
  label: string;
  type: 'datasource' | 'query';
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  schemaVersion: number;
  version: number;
  editable: boolean;
  graphTooltip: number;
  refresh: string;
  time: { from: string; to: string };
  timezone: string;
  templating: { list: TemplateVariable[] };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}

const GRID_COLUMNS = 24;

/** Accumulates panels and places them on the grid. */
export class DashboardBuilder {
  private readonly panels: Panel[] = [];
  private nextId = 1;
  private x = 0;
  private y = 0;
  private lineHeight = 0;

  /** Start a new full-width row (a section header) on a fresh line. */
  row(title: string): this {
    this.newLine();
    this.panels.push({ id: this.nextId++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: GRID_COLUMNS, x: 0, y: this.y }, panels: [] });
    this.y += 1;
    return this;
  }

  /** Add a query panel at the next free place on the current line (wrapping when full). */
  panel(spec: PanelSpec): this {
    const w = spec.w ?? 12;
    const h = spec.h ?? 8;
    if (w < 1 || w > GRID_COLUMNS || h < 1) throw new RangeError(`panel '${spec.title}': bad size w=${w} h=${h}`);
    if (this.x + w > GRID_COLUMNS) this.newLine();
    const gridPos = { h, w, x: this.x, y: this.y };
    this.x += w;
    this.lineHeight = Math.max(this.lineHeight, h);
    const targets = spec.queries.map((q, i): PrometheusTarget => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      instant: q.instant ?? false,
      range: !(q.instant ?? false),
      ...(q.format ? { format: q.format } : {}),
    }));
    const defaults: Record<string, unknown> = {};
    if (spec.unit !== undefined) defaults.unit = spec.unit;
    if (spec.min !== undefined) defaults.min = spec.min;
    if (spec.max !== undefined) defaults.max = spec.max;
    if (spec.type === 'timeseries') {
      defaults.custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: spec.stacked ? 30 : 10, stacking: { mode: spec.stacked ? 'normal' : 'none', group: 'A' } };
    }
    const options = spec.options ?? defaultOptions(spec.type);
    this.panels.push({
      id: this.nextId++,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      gridPos,
      targets,
      fieldConfig: { defaults, overrides: [] },
      options,
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    });
    return this;
  }

  build(meta: Omit<Dashboard, 'panels' | 'schemaVersion' | 'annotations' | 'links'>): Dashboard {
    return { ...meta, schemaVersion: SCHEMA_VERSION, annotations: { list: [] }, links: [], panels: structuredClone(this.panels) };
  }

  private newLine(): void {
    if (this.x > 0) {
      this.y += this.lineHeight;
      this.x = 0;
      this.lineHeight = 0;
    }
  }
}

function defaultOptions(type: PanelType): Record<string, unknown> {
  switch (type) {
    case 'timeseries':
      return { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } };
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' };
    case 'gauge':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, showThresholdLabels: false, showThresholdMarkers: true };
    case 'bargauge':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true };
    case 'table':
      return { showHeader: true, cellHeight: 'sm' };
  }
}

/** The `datasource` template variable: pick any Prometheus data source. */
export function datasourceVariable(): TemplateVariable {
  return { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', refresh: 1, hide: 0, current: {}, options: [], regex: '' };
}

/** A multi-value query variable over the values of one label. */
export function labelValuesVariable(name: string, label: string, metric: string, labelName: string): TemplateVariable {
  const query = `label_values(${metric}, ${labelName})`;
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: {},
    options: [],
    sort: 1,
    hide: 0,
    regex: '',
  };
}
