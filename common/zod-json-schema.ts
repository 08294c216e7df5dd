/**
 * A JSON Schema (draft 2020-12) of a zod (v3) schema, for documenting the YAML formats the zod
 * schemas validate (docs/trial-spec.schema.json is generated from science/trial-spec.ts), and
 * `keyHomes`, which says where in such a format a key belongs ("seedCount belongs under axes").
 *
 * Covers the zod types our formats use: objects (strict or not), strings, numbers, booleans,
 * enums, literals, arrays, unions, optional/default/nullable wrappers and refinements. A
 * refinement's rule (a cross-field check) has no JSON Schema form: the schema is the shape, and
 * the zod schema stays what validates.
 */
import type { ZodTypeAny } from 'zod';

export type JsonSchema = { [key: string]: unknown };

interface Def {
  typeName: string;
  [key: string]: unknown;
}

const defOf = (s: ZodTypeAny): Def => s._def as Def;

/** A wrapper that leaves the key optional in its object. */
function isOptional(s: ZodTypeAny): boolean {
  const t = defOf(s).typeName;
  return t === 'ZodOptional' || t === 'ZodDefault';
}

/** The JSON Schema of `schema`. Throws for a zod type this module does not cover. */
export function zodToJsonSchema(schema: ZodTypeAny): JsonSchema {
  const d = defOf(schema);
  const described = schema.description !== undefined ? { description: schema.description } : {};
  switch (d.typeName) {
    case 'ZodObject': {
      const shape = (schema as unknown as { shape: Record<string, ZodTypeAny> }).shape;
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [k, v] of Object.entries(shape)) {
        properties[k] = zodToJsonSchema(v);
        if (!isOptional(v)) required.push(k);
      }
      return {
        type: 'object',
        ...described,
        properties,
        ...(required.length ? { required } : {}),
        ...(d.unknownKeys === 'strict' ? { additionalProperties: false } : {}),
      };
    }
    case 'ZodString': {
      const out: JsonSchema = { type: 'string', ...described };
      for (const c of d.checks as { kind: string; value?: number; regex?: RegExp }[]) {
        if (c.kind === 'min') out.minLength = c.value;
        if (c.kind === 'max') out.maxLength = c.value;
        if (c.kind === 'regex') out.pattern = c.regex!.source;
      }
      return out;
    }
    case 'ZodNumber': {
      const checks = d.checks as { kind: string; value?: number; inclusive?: boolean }[];
      const out: JsonSchema = { type: checks.some((c) => c.kind === 'int') ? 'integer' : 'number', ...described };
      for (const c of checks) {
        if (c.kind === 'min') out[c.inclusive ? 'minimum' : 'exclusiveMinimum'] = c.value;
        if (c.kind === 'max') out[c.inclusive ? 'maximum' : 'exclusiveMaximum'] = c.value;
      }
      return out;
    }
    case 'ZodBoolean':
      return { type: 'boolean', ...described };
    case 'ZodEnum':
      return { type: 'string', ...described, enum: [...(d.values as string[])] };
    case 'ZodLiteral':
      return { ...described, const: d.value };
    case 'ZodArray': {
      const out: JsonSchema = { type: 'array', ...described, items: zodToJsonSchema(d.type as ZodTypeAny) };
      if (d.minLength) out.minItems = (d.minLength as { value: number }).value;
      if (d.maxLength) out.maxItems = (d.maxLength as { value: number }).value;
      return out;
    }
    case 'ZodUnion':
      return { ...described, anyOf: (d.options as ZodTypeAny[]).map(zodToJsonSchema) };
    case 'ZodDiscriminatedUnion':
      return { ...described, oneOf: (d.options as ZodTypeAny[]).map(zodToJsonSchema) };
    case 'ZodOptional':
      return { ...zodToJsonSchema(d.innerType as ZodTypeAny), ...described };
    case 'ZodNullable':
      return { ...described, anyOf: [zodToJsonSchema(d.innerType as ZodTypeAny), { type: 'null' }] };
    case 'ZodDefault':
      return { ...zodToJsonSchema(d.innerType as ZodTypeAny), ...described, default: (d.defaultValue as () => unknown)() };
    case 'ZodEffects':
      return { ...zodToJsonSchema(d.schema as ZodTypeAny), ...described };
    default:
      throw new Error(`zodToJsonSchema: no JSON Schema form for ${d.typeName}`);
  }
}

/**
 * Every object key of a JSON Schema and the places it may appear, as paths: '' is the top level,
 * 'axes', 'axes.datasets[]' (an item of a list). Pure.
 */
export function keyHomes(schema: JsonSchema): Map<string, string[]> {
  const homes = new Map<string, string[]>();
  const walk = (s: JsonSchema, at: string): void => {
    const props = s.properties as Record<string, JsonSchema> | undefined;
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        const list = homes.get(k) ?? [];
        if (!list.includes(at)) list.push(at);
        homes.set(k, list);
        walk(v, at ? `${at}.${k}` : k);
      }
    }
    if (s.items) walk(s.items as JsonSchema, `${at}[]`);
    for (const alt of [...((s.anyOf as JsonSchema[] | undefined) ?? []), ...((s.oneOf as JsonSchema[] | undefined) ?? [])]) walk(alt, at);
  };
  walk(schema, '');
  return homes;
}

/**
 * " (it belongs under axes)" for a key that is unknown at `here` (a path as keyHomes writes it)
 * but known elsewhere; '' when it is known nowhere else.
 */
export function placeHint(key: string, here: string, homes: ReadonlyMap<string, readonly string[]>): string {
  const elsewhere = (homes.get(key) ?? []).filter((h) => h !== here);
  if (elsewhere.length === 0) return '';
  const place = (h: string) => (h === '' ? 'at the top level' : h.endsWith('[]') ? `in each entry of ${h.slice(0, -2)}` : `under ${h}`);
  return ` (it belongs ${elsewhere.map(place).join(' or ')})`;
}
