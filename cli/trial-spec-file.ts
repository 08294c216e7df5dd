/**
 * A trial spec file (YAML, `npf train --spec FILE`; docs/trial-spec.md) and its problems named
 * like the sweep spec's: file:line:column, field path, what was wrong, a did-you-mean, and where
 * a key at the wrong level belongs. A field a flag set is the flag's problem, not the file's.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { didYouMean } from '../common/did-you-mean.js';
import { InvalidInputError, describeError } from '../common/errors.js';
import { keyHomes, placeHint, zodToJsonSchema } from '../common/zod-json-schema.js';
import { formatIssues, type SpecIssue } from '../coordinator/sweep-spec/errors.js';
import { contextualErrorMap, formatPath, nodeAt } from '../coordinator/sweep-spec/parse-sweep.js';
import { trialSpecSchema } from '../science/trial-spec.js';

type PathSeg = string | number;

export interface TrialSpecFile {
  file: string;
  /** The file's mapping, as plain data. */
  value: Record<string, unknown>;
  /** Line and column (1-based) of the node at `path`, or of its deepest existing parent. */
  locate(path: readonly PathSeg[], key?: string): { line: number; column: number } | undefined;
}

/** Parse a trial spec's text (pure). Throws InvalidInputError naming file:line for bad YAML. */
export function parseTrialSpecText(text: string, file: string): TrialSpecFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ file, ...at(e.pos[0]), message: `YAML syntax error: ${e.message.split('\n')[0].trim()}` }));
    throw new InvalidInputError(formatIssues(issues, 'trial spec'), { file, issues });
  }
  if (!isMap(doc.contents)) {
    throw new InvalidInputError(formatIssues([{ file, ...at(doc.contents?.range?.[0]), message: 'a trial spec must be a YAML mapping (dataset, regime, optimizer, epochs, ...)' }], 'trial spec'), { file });
  }
  return { file, value: doc.toJS() as Record<string, unknown>, locate: (path, key) => at(offsetOf(doc, path, key)) };
}

function offsetOf(doc: Document, path: readonly PathSeg[], key?: string): number | undefined {
  const { node, complete } = nodeAt(doc, path);
  if (key !== undefined && complete && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    return (pair?.key as Node | undefined)?.range?.[0] ?? node.range?.[0];
  }
  return node?.range?.[0];
}

/** Read and parse a trial spec file. */
export function readTrialSpecFile(file: string): TrialSpecFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`${file}: cannot read the spec file (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { file });
  }
  return parseTrialSpecText(text, file);
}

let homes: Map<string, string[]> | undefined;

/** The message of one zod issue of a trial spec: the sweep spec's wording, enums and keys with a did-you-mean. */
export function issueMessage(issue: z.ZodIssue, data: unknown): string {
  if (issue.code === 'invalid_enum_value') {
    const got = String(issue.received);
    const options = issue.options.map(String);
    return `unknown value '${got}'${didYouMean(got, options)} (expected ${options.join(', ')})`;
  }
  if (issue.code === 'unrecognized_keys') {
    homes ??= keyHomes(zodToJsonSchema(trialSpecSchema));
    const [key] = issue.keys;
    const here = issue.path.map((seg) => (typeof seg === 'number' ? '[]' : `.${seg}`)).join('').replace(/^\./, '');
    const allowed = [...homes.entries()].filter(([, at]) => at.includes(here)).map(([k]) => k);
    const hint = didYouMean(key, allowed) || placeHint(key, here, homes);
    return `unknown key '${key}'${hint} (allowed: ${allowed.join(', ')})`;
  }
  return contextualErrorMap(issue, { data, defaultError: issue.message }).message;
}

/**
 * Each zod issue of a trial spec as a SpecIssue: a field a flag set names the flag
 * (`flagOf(path)`), one from the file names file:line:column, else the field alone.
 */
export function locateTrialIssues(issues: readonly z.ZodIssue[], input: unknown, spec: TrialSpecFile | undefined, flagOf: (path: string) => string | undefined): SpecIssue[] {
  const out: SpecIssue[] = [];
  for (const issue of issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const one = (key !== undefined ? { ...issue, keys: [key] } : issue) as z.ZodIssue;
      const fullPath: PathSeg[] = key !== undefined ? [...issue.path, key] : [...issue.path];
      const path = formatPath(fullPath) || undefined;
      const message = issueMessage(one, valueAt(input, issue.path));
      const flag = path !== undefined ? flagOf(path) : undefined;
      if (flag !== undefined) out.push({ file: flag, path, message });
      else if (spec) out.push({ file: spec.file, ...spec.locate(issue.path, key), path, message });
      else out.push({ file: 'command line', path, message });
    }
  }
  return out.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}

function valueAt(input: unknown, path: readonly PathSeg[]): unknown {
  let v = input;
  for (const seg of path) v = typeof v === 'object' && v !== null ? (v as Record<PathSeg, unknown>)[seg] : undefined;
  return v;
}

/** The error for a trial spec's problems: every one listed. */
export function trialSpecError(issues: readonly SpecIssue[]): InvalidInputError {
  return new InvalidInputError(formatIssues(issues, 'trial spec'), { issues });
}
