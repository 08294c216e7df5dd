import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keyHomes, placeHint, zodToJsonSchema } from '../../common/zod-json-schema.js';

describe('zod-json-schema - the documented shape of a zod schema', () => {
  const schema = z
    .object({
      name: z.string().min(1).regex(/^[a-z]+$/),
      kind: z.enum(['a', 'b']).default('a'),
      count: z.number().int().positive().max(9).optional(),
      ratio: z.number().min(0),
      flag: z.boolean(),
      items: z.array(z.object({ lr: z.number() }).strict()).nonempty(),
      shape: z.discriminatedUnion('k', [z.object({ k: z.literal('x'), width: z.number() }).strict(), z.object({ k: z.literal('y') }).strict()]),
    })
    .strict()
    .superRefine(() => {});

  it('zod-json-schema - types, bounds, enums, defaults, required keys and strictness carry over', () => {
    const js = zodToJsonSchema(schema);
    expect(js).toMatchObject({ type: 'object', additionalProperties: false, required: ['name', 'ratio', 'flag', 'items', 'shape'] });
    const p = js.properties as Record<string, Record<string, unknown>>;
    expect(p.name).toEqual({ type: 'string', minLength: 1, pattern: '^[a-z]+$' });
    expect(p.kind).toEqual({ type: 'string', enum: ['a', 'b'], default: 'a' });
    expect(p.count).toEqual({ type: 'integer', exclusiveMinimum: 0, maximum: 9 });
    expect(p.ratio).toEqual({ type: 'number', minimum: 0 });
    expect(p.items).toMatchObject({ type: 'array', minItems: 1, items: { type: 'object', required: ['lr'] } });
    expect((p.shape.oneOf as unknown[]).length).toBe(2);
  });

  it('zod-json-schema - keyHomes finds each key, inside lists and unions; placeHint names the other places', () => {
    const homes = keyHomes(zodToJsonSchema(schema));
    expect(homes.get('lr')).toEqual(['items[]']);
    expect(homes.get('width')).toEqual(['shape']);
    expect(placeHint('lr', '', homes)).toBe(' (it belongs in each entry of items)');
    expect(placeHint('width', '', homes)).toBe(' (it belongs under shape)');
    expect(placeHint('name', 'shape', homes)).toBe(' (it belongs at the top level)');
    expect(placeHint('lr', 'items[]', homes)).toBe('');
    expect(placeHint('nothing', '', homes)).toBe('');
  });

  it('zod-json-schema - a zod type without a JSON Schema form is refused, not guessed', () => {
    expect(() => zodToJsonSchema(z.object({ when: z.date() }))).toThrow(/ZodDate/);
  });
});
