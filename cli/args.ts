/**
 * The one argument parser of the `npf` commands: each command declares its flags once (kind,
 * bounds, choices, required) and gets typed values back, -h/--help, and one error style.
 *
 * Every problem is collected, not only the first, and each names its flag and the value given:
 *
 *   npf worker: --cpus expects a number >= 0, got 'many'
 *   npf run: 2 problems with the arguments:
 *     --workers expects a whole number >= 1, got '0'
 *     unknown flag --plian (did you mean --plain?)
 *
 * Accepted forms: `--flag value`, `--flag=value`, a boolean `--flag`, `-h`; `--` ends the flags.
 * A value may start with '-' when it is a number (`--lr -1`), so a typo is not taken as a value.
 */
import { closest } from '../common/did-you-mean.js';
import { InvalidInputError } from '../common/errors.js';

export type FlagKind =
  /** Any non-empty text. */
  | 'string'
  /** A whole number. */
  | 'int'
  /** A finite number. */
  | 'number'
  /** Present or not; takes no value. */
  | 'boolean'
  /** Repeatable text flag: every occurrence, in order. */
  | 'list';

export interface FlagSpec {
  readonly kind: FlagKind;
  /** One-letter alias (`-h`). */
  readonly short?: string;
  /** Numbers: smallest value accepted. */
  readonly min?: number;
  /** Numbers: values must be greater than this. */
  readonly above?: number;
  /** Numbers: largest value accepted. */
  readonly max?: number;
  /** Text: the values accepted. */
  readonly choices?: readonly string[];
  readonly required?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S['kind'] extends 'boolean' ? boolean : S['kind'] extends 'int' | 'number' ? number : S['kind'] extends 'list' ? string[] : string;

/** The values of the flags given (a flag not given is absent). */
export type FlagValues<F extends FlagSpecs> = { -readonly [K in keyof F]?: ValueOf<F[K]> };

export interface CommandSpec<F extends FlagSpecs> {
  /** The subcommand's name, e.g. 'worker' (errors start "npf worker: "). */
  readonly command: string;
  /** Printed by --help. */
  readonly usage: string;
  readonly flags: F;
  /** Positional arguments: how many and what they are (default: none). */
  readonly positionals?: { readonly min: number; readonly max: number; readonly what: string };
  /** Checks across flags, once each flag is valid on its own: one sentence per problem. */
  readonly check?: (values: FlagValues<F>) => string[];
}

export interface ParsedArgs<F extends FlagSpecs> {
  /** -h or --help was given: print `usage` and do nothing else. */
  help: boolean;
  values: FlagValues<F>;
  positionals: string[];
}

/** Bad command-line arguments: every problem, each naming its flag. */
export class UsageError extends InvalidInputError {
  readonly command: string;
  readonly problems: readonly string[];

  constructor(command: string, problems: readonly string[]) {
    const list = problems.length === 1 ? problems[0] : `${problems.length} problems with the arguments:\n${problems.map((p) => `  ${p}`).join('\n')}`;
    super(`npf ${command}: ${list}`, { command, problems });
    this.command = command;
    this.problems = problems;
  }
}

/** Declare a command's arguments (keeps the flags' literal kinds for typed values). */
export function defineCommand<const F extends FlagSpecs>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

/** Print the command's usage on stdout; the exit code of a --help run (0). */
export function printUsage(spec: { usage: string }): number {
  console.log(spec.usage);
  return 0;
}

/** " (did you mean --x?)" for the closest known flag, when one is close. */
function suggestion(name: string, known: readonly string[]): string {
  const c = closest(name, known);
  return c !== undefined ? ` (did you mean --${c}?)` : '';
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function describeBounds(s: FlagSpec): string {
  const parts: string[] = [];
  if (s.above !== undefined) parts.push(`> ${s.above}`);
  if (s.min !== undefined) parts.push(`>= ${s.min}`);
  if (s.max !== undefined) parts.push(`<= ${s.max}`);
  return parts.length ? ` ${parts.join(' and ')}` : '';
}

/** The typed value of `--name raw`, or the sentence saying what is wrong with it. */
function convert(name: string, s: FlagSpec, raw: string): { value: string | number } | { problem: string } {
  if (raw === '') return { problem: `--${name} needs a non-empty value` };
  if (s.kind === 'string' || s.kind === 'list') {
    if (s.choices && !s.choices.includes(raw)) {
      const near = closest(raw, s.choices);
      return { problem: `--${name} expects one of ${s.choices.join(', ')}, got '${raw}'${near !== undefined ? ` (did you mean ${near}?)` : ''}` };
    }
    return { value: raw };
  }
  const n = Number(raw);
  const bounds = describeBounds(s);
  if (!NUMBER_RE.test(raw) || !Number.isFinite(n)) return { problem: `--${name} expects a number${bounds}, got '${raw}'` };
  const outside = (s.min !== undefined && n < s.min) || (s.above !== undefined && n <= s.above) || (s.max !== undefined && n > s.max);
  if ((s.kind === 'int' && !Number.isInteger(n)) || outside) return { problem: `--${name} expects ${s.kind === 'int' ? 'a whole number' : 'a number'}${bounds}, got '${raw}'` };
  return { value: n };
}

function countProblem(p: NonNullable<CommandSpec<FlagSpecs>['positionals']>, got: string[]): string | undefined {
  const n = got.length;
  if (n >= p.min && n <= p.max) return undefined;
  if (p.max === 0) return `unexpected argument '${got[0]}' (flags start with --)`;
  const want = p.min === p.max ? `${p.min === 1 ? 'one' : p.min} ${p.what}` : p.min === 0 ? `at most ${p.max === 1 ? 'one' : p.max} ${p.what}` : `${p.min} to ${p.max} ${p.what}`;
  return `expected ${want}, got ${n}`;
}

/**
 * Parse `argv` against the command's flags. Throws one UsageError listing every problem;
 * with -h/--help anywhere, returns help: true (whatever else is wrong).
 */
export function parseCommandArgs<F extends FlagSpecs>(spec: CommandSpec<F>, argv: readonly string[]): ParsedArgs<F> {
  const flags: FlagSpecs = spec.flags;
  const known = Object.keys(flags);
  const values: Record<string, string | number | boolean | string[]> = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  /** Flags given, valid or not (a bad value is one problem, not also a missing required flag). */
  const given = new Set<string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const alias = known.find((k) => flags[k].short === arg.slice(1));
      if (!alias) {
        problems.push(`unknown flag ${arg}`);
        continue;
      }
      name = alias;
    } else {
      positionals.push(arg);
      continue;
    }
    const s = flags[name];
    if (!s) {
      problems.push(`unknown flag --${name}${suggestion(name, known)}`);
      // A misspelt flag's value is not a positional ('run --wokers 2 spec.yaml'): when the flag it
      // is closest to takes a value, so does this one.
      const near = closest(name, known);
      const next = argv[i + 1];
      if (inline === undefined && near !== undefined && flags[near].kind !== 'boolean' && next !== undefined && (!next.startsWith('-') || NUMBER_RE.test(next))) i++;
      continue;
    }
    given.add(name);
    if (s.kind === 'boolean') {
      if (inline !== undefined) problems.push(`--${name} takes no value`);
      else if (name in values) problems.push(`--${name} given twice`);
      else values[name] = true;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && !NUMBER_RE.test(next))) {
        problems.push(`--${name} needs a value`);
        continue;
      }
      raw = next;
      i++;
    }
    const r = convert(name, s, raw);
    if ('problem' in r) problems.push(r.problem);
    else if (s.kind === 'list') ((values[name] ??= []) as string[]).push(r.value as string);
    else if (name in values) problems.push(`--${name} given twice`);
    else values[name] = r.value;
  }
  if (help) return { help, values: {}, positionals: [] };
  const count = countProblem(spec.positionals ?? { min: 0, max: 0, what: 'arguments' }, positionals);
  if (count) problems.push(count);
  for (const k of known) if (flags[k].required && !given.has(k)) problems.push(`--${k} is required`);
  const typed = values as FlagValues<F>;
  if (problems.length === 0 && spec.check) problems.push(...spec.check(typed));
  if (problems.length > 0) throw new UsageError(spec.command, problems);
  return { help, values: typed, positionals };
}

/** A problem found after parsing (reading a file a flag names...), in the same style. */
export function usageError(spec: { command: string }, ...problems: string[]): UsageError {
  return new UsageError(spec.command, problems);
}
