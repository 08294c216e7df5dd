/**
 * Typed errors of the sweep-spec area: parsing/validating a sweep YAML and expanding it into
 * trials. Each message is one sentence naming the file, line:column and field path.
 */
import { InvalidInputError } from '../../common/errors.js';

/** Where in a sweep spec a problem was found. `line`/`column` are 1-based; absent when unknown. */
export interface SpecLocation {
  /** The file, or '--set PATH=VALUE' for a problem with a command-line override. */
  file?: string;
  line?: number;
  column?: number;
  /** Field path, e.g. 'axes.regimes[2]'. */
  path?: string;
}

/** One validation problem of a sweep spec. */
export interface SpecIssue extends SpecLocation {
  message: string;
}

/** Render a location as `file:line:col: path` (the parts that are known). */
export function formatLocation(loc: SpecLocation): string {
  let where = loc.file ?? '';
  if (loc.line !== undefined) where += `${where ? ':' : ''}${loc.line}:${loc.column ?? 1}`;
  const parts = [where, loc.path].filter((p): p is string => !!p);
  return parts.join(': ');
}

export function formatIssue(issue: SpecIssue): string {
  const where = formatLocation(issue);
  return where ? `${where}: ${issue.message}` : issue.message;
}

/**
 * Every problem, one per line after a count when there are several:
 *
 *   sweeps/x.yaml: 2 problems:
 *     sweeps/x.yaml:9:7: axes.optimizers[0].lr: unknown key 'lr' (did you mean 'lrs'?) ...
 *     --set epochs=abc: epochs: expected number, got string "abc"
 */
export function formatIssues(issues: readonly SpecIssue[], what = 'sweep spec'): string {
  if (issues.length === 0) return `invalid ${what}`;
  if (issues.length === 1) return formatIssue(issues[0]);
  const files = [...new Set(issues.map((i) => i.file).filter((f): f is string => !!f && !f.startsWith('--')))];
  const head = files.length === 1 && issues.every((i) => i.file === files[0]) ? `${files[0]}: ${issues.length} problems:` : `${issues.length} problems in the ${what}:`;
  return [head, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n');
}

/** The sweep spec is malformed YAML or fails validation. `issues` holds every problem; the message lists them all. */
export class SweepSpecError extends InvalidInputError {
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[], options?: { cause?: unknown }) {
    const first = issues[0] ?? { message: 'invalid sweep spec' };
    super(formatIssues(issues), { ...first, issues }, options);
    this.issues = issues;
  }
}

/** Expansion would create more trials than `limits.maxTrials` allows. */
export class SweepTooLargeError extends InvalidInputError {
  readonly trials: number;
  readonly maxTrials: number;

  constructor(message: string, context: { file?: string; trials: number; maxTrials: number; factors: string }) {
    super(message, context);
    this.trials = context.trials;
    this.maxTrials = context.maxTrials;
  }
}

/** A trial of the expansion does not validate as a TrialSpec, or a dependency cannot be wired. */
export class SweepExpansionError extends InvalidInputError {}
