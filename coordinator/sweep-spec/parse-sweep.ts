/**
 * Sweep spec text -> validated `SweepSpec`. Pure: the file's text, its name and the environment
 * are passed in. Every error names file:line:column and the field path, e.g.
 *   sweeps/x.yaml:12:5: axes.regimes[2]: unknown regime 'dnpf' (expected relu, frnpf-ii, ...)
 *
 * Two ways to fill values the file leaves to the user (the CIFAR `dir`):
 * - `${NAME}` inside a string is replaced by the environment variable NAME (an error if unset);
 * - `set: ['axes.datasets[0].dir=/data/cifar-10-batches-bin']` overrides any field (value read as
 *   YAML); a problem in an overridden field names the `--set` instead of a line of the file.
 */
import { isMap, isScalar, isSeq, LineCounter, parse as parseYaml, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { LIMITS } from '../limits.js';
import { didYouMean } from '../../common/did-you-mean.js';
import { SweepSpecError, type SpecIssue } from './errors.js';
import { keyHomes, placeHint, zodToJsonSchema } from '../../common/zod-json-schema.js';
import { sweepSchema, type SweepSpec } from './sweep-schema.js';

/** The coordinator's environment for specs: none. A `${NAME}` then says the client expands variables. */
export const NO_ENV: Readonly<Record<string, string | undefined>> = Object.freeze({});

export interface ParseSweepOptions {
  /** File name used in messages (default 'sweep.yaml'). */
  file?: string;
  /** Environment for `${NAME}` interpolation (default: none, so any `${...}` is an error). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Overrides `path=value`, applied before interpolation and validation. */
  set?: readonly string[];
}

type PathSeg = string | number;

/** 'axes.regimes[2]' from ['axes', 'regimes', 2]. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** ['axes', 'datasets', 0, 'dir'] from 'axes.datasets[0].dir'; undefined if malformed. */
export function parsePath(text: string): PathSeg[] | undefined {
  const out: PathSeg[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let consumed = '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else out.push(Number(m[2]));
    consumed += m[0];
  }
  if (out.length === 0 || consumed.length !== text.replace(/\./g, '').length) return undefined;
  return out;
}

interface Located {
  line?: number;
  column?: number;
}

/** Parse and validate a sweep spec, or throw SweepSpecError naming file, line:column and field. */
export function parseSweepSpec(text: string, options: ParseSweepOptions = {}): SweepSpec {
  const file = options.file ?? 'sweep.yaml';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const at = (offset: number | undefined): Located => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    throw new SweepSpecError(
      doc.errors.map((e) => ({ file, ...at(e.pos[0]), message: `YAML syntax error: ${firstLine(e.message)}` })),
    );
  }
  if (!isMap(doc.contents)) {
    throw new SweepSpecError([{ file, ...at(doc.contents?.range?.[0]), message: 'a sweep spec must be a YAML mapping (name, axes, epochs, ...)' }]);
  }

  const overrides = (options.set ?? []).map((entry) => ({ entry, path: applyOverride(doc, entry, file) }));

  const envIssues: SpecIssue[] = [];
  const noEnv = options.env === undefined || options.env === NO_ENV;
  interpolateEnv(doc.contents, [], options.env ?? {}, (path, node, name) =>
    envIssues.push({
      file,
      ...at(node.range?.[0]),
      path: formatPath(path),
      message: noEnv
        ? `\${${name}} is not expanded here: variables are expanded by the client that submits the spec (npf submit, npf run), never by the coordinator; or override the field with --set ${formatPath(path)}=...`
        : `environment variable ${name} is not set (set it, or override the field with --set ${formatPath(path)}=...)`,
    }),
  );
  if (envIssues.length > 0) throw new SweepSpecError(envIssues);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SweepSpecError([{ file, message: `YAML error: ${firstLine(err instanceof Error ? err.message : String(err))}` }], { cause: err });
  }

  const parsed = sweepSchema.safeParse(value, { errorMap: contextualErrorMap });
  if (!parsed.success) {
    // Structural problems (types, unknown keys and values) first, in document order; cross-field
    // rules after them, since they are often consequences (a misspelt 'seedz' also means "no seeds").
    // A missing field ranks after the other structural problems too: a misspelt 'lr' reads better
    // as "unknown key 'lr' (did you mean 'lrs'?)" than as "lrs: required".
    const rankOf = (i: z.ZodIssue) => (i.code === 'custom' ? 2 : i.code === 'invalid_type' && i.received === 'undefined' ? 1 : 0);
    const issues = flattenIssues(parsed.error.issues).map((issue) => ({
      rank: rankOf(issue),
      ...blameOverride(withPlaceHint(locateIssue(doc, issue, file, at), issue), issue, overrides),
    }));
    issues.sort(
      (a, b) =>
        a.rank - b.rank ||
        (a.line ?? Infinity) - (b.line ?? Infinity) ||
        (a.column ?? 0) - (b.column ?? 0),
    );
    throw new SweepSpecError(issues.map(({ rank: _, ...issue }) => issue));
  }
  return { ...(parsed.data as SweepSpec), source: file };
}

/**
 * The spec text with `${NAME}` replaced by `env` values, for the submitting client: the
 * coordinator never expands its own environment. Throws SweepSpecError naming each unset
 * variable. The text is re-serialised only when it had something to expand.
 */
export function expandSpecVariables(text: string, env: Readonly<Record<string, string | undefined>>, file = 'sweep.yaml'): string {
  if (!text.includes('${')) return text;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) return text; // parseSweepSpec reports the syntax error with its position
  const issues: SpecIssue[] = [];
  let changed = false;
  interpolateEnv(doc.contents, [], env, (path, node, name) => {
    const pos = node.range ? lineCounter.linePos(node.range[0]) : undefined;
    issues.push({
      file,
      ...(pos ? { line: pos.line, column: pos.col } : {}),
      path: formatPath(path),
      message: `environment variable ${name} is not set (set it, or override the field with --set ${formatPath(path)}=...)`,
    });
  }, () => (changed = true));
  if (issues.length > 0) throw new SweepSpecError(issues);
  return changed ? doc.toString() : text;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

/** Messages for type errors, naming what was found. Other codes keep the schema's own message. */
export const contextualErrorMap: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === 'invalid_type') {
    if (issue.received === 'undefined') return { message: 'required' };
    const shown = typeof ctx.data === 'string' || typeof ctx.data === 'number' ? ` ${JSON.stringify(ctx.data)}` : '';
    return { message: `expected ${issue.expected}, got ${issue.received}${shown}` };
  }
  if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.type === 'number') {
    const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    return { message: `must be ${op} ${String(bound)}, got ${JSON.stringify(ctx.data)}` };
  }
  return { message: ctx.defaultError };
};

/** Replace invalid_union issues by the issues of the branch that got furthest (e.g. epochs: number | map). */
function flattenIssues(issues: readonly z.ZodIssue[]): z.ZodIssue[] {
  const out: z.ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'invalid_union' && issue.unionErrors.length > 0) {
      const score = (e: z.ZodError) =>
        Math.max(...e.issues.map((i) => i.path.length * 2 + (i.code === 'invalid_type' ? 0 : 1)));
      const best = [...issue.unionErrors].sort((a, b) => score(b) - score(a))[0];
      out.push(...flattenIssues(best.issues));
    } else {
      out.push(...splitUnknownKeys(issue));
    }
  }
  return out;
}

/**
 * One issue per unknown key (zod gives one for all the keys of an object), so each is located,
 * hinted and blamed on its own --set.
 */
function splitUnknownKeys(issue: z.ZodIssue): z.ZodIssue[] {
  if (issue.code !== 'unrecognized_keys' || issue.keys.length < 2) return [issue];
  const allowed = /\(allowed: ([^)]*)\)$/.exec(issue.message)?.[1].split(', ') ?? [];
  return issue.keys.map((k) => ({ ...issue, keys: [k], message: `unknown key '${k}'${didYouMean(k, allowed)} (allowed: ${allowed.join(', ')})` }));
}

let homes: Map<string, string[]> | undefined;

/** An unknown key that is known elsewhere in the format says where it goes ("it belongs under axes"). */
function withPlaceHint(located: SpecIssue, issue: z.ZodIssue): SpecIssue {
  if (issue.code !== 'unrecognized_keys' || located.message.includes('did you mean')) return located;
  homes ??= keyHomes(zodToJsonSchema(sweepSchema));
  const here = issue.path.map((seg) => (typeof seg === 'number' ? '[]' : `.${seg}`)).join('').replace(/^\./, '');
  const hint = placeHint(issue.keys[0], here, homes);
  const name = `unknown key '${issue.keys[0]}'`;
  return hint ? { ...located, message: located.message.replace(name, `${name}${hint}`) } : located;
}

/** A problem in a field a --set gave (or under it) is the --set's, not the file's line. */
function blameOverride(located: SpecIssue, issue: z.ZodIssue, overrides: readonly { entry: string; path: PathSeg[] }[]): SpecIssue {
  const path: PathSeg[] = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : [...issue.path];
  const by = [...overrides].reverse().find((o) => o.path.length <= path.length && o.path.every((seg, i) => String(seg) === String(path[i])));
  if (!by) return located;
  return { file: `--set ${by.entry}`, path: located.path, message: located.message };
}

/** Attach file:line:col and a readable field path to a zod issue. */
function locateIssue(doc: Document, issue: z.ZodIssue, file: string, at: (o: number | undefined) => Located): SpecIssue {
  const path: PathSeg[] = [...issue.path];
  let offset: number | undefined;
  if (issue.code === 'unrecognized_keys') {
    const container = nodeAt(doc, path).node;
    const key = issue.keys[0];
    path.push(key);
    if (isMap(container)) {
      const pair = container.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      offset = (pair?.key as Node | undefined)?.range?.[0];
    }
    offset ??= container?.range?.[0];
  } else {
    offset = nodeAt(doc, path).node?.range?.[0];
  }
  return { file, ...at(offset), path: formatPath(path) || undefined, message: issue.message };
}

/** The deepest YAML node along `path` (the value node when the whole path exists). */
export function nodeAt(doc: Document, path: readonly PathSeg[]): { node: Node | undefined; complete: boolean } {
  let node = doc.contents as Node | null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return { node, complete: false };
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg] as Node;
    } else {
      return { node: node ?? undefined, complete: false };
    }
  }
  return { node: node ?? undefined, complete: true };
}

function interpolateEnv(
  node: unknown,
  path: PathSeg[],
  env: Readonly<Record<string, string | undefined>>,
  onMissing: (path: PathSeg[], node: Node, name: string) => void,
  onExpanded: () => void = () => {},
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      interpolateEnv(pair.value, [...path, key], env, onMissing, onExpanded);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => interpolateEnv(item, [...path, i], env, onMissing, onExpanded));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    node.value = node.value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        onMissing(path, node, name);
        return whole;
      }
      onExpanded();
      return v;
    });
  }
}

/** Apply one `--set path=value` to the document; its path. Problems name the --set, not the file. */
function applyOverride(doc: Document, entry: string, file: string): PathSeg[] {
  const eq = entry.indexOf('=');
  const path = eq > 0 ? parsePath(entry.slice(0, eq)) : undefined;
  if (!path) {
    throw new SweepSpecError([{ file: `--set ${entry}`, message: `expected path=value, e.g. axes.datasets[0].dir=/data/cifar-10-batches-bin` }]);
  }
  // Checked before setIn, which fills a list up to the index it is given.
  const index = path.reduce<number>((m, seg) => (typeof seg === 'number' ? Math.max(m, seg) : m), -1);
  if (index > LIMITS.overrideIndex) {
    throw new SweepSpecError([{ file: `--set ${entry}`, path: formatPath(path), message: `list index ${index} is more than the limit ${LIMITS.overrideIndex}` }]);
  }
  const raw = entry.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYaml(raw);
  } catch {
    value = raw;
  }
  try {
    doc.setIn(path, doc.createNode(value));
  } catch (err) {
    throw new SweepSpecError(
      [{ file: `--set ${entry}`, path: formatPath(path), message: `cannot set this field (in ${file}): ${firstLine(err instanceof Error ? err.message : String(err))}` }],
      { cause: err },
    );
  }
  return path;
}
