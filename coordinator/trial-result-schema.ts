/**
 * Validation of the TrialResult JSON a worker reports (science/types.ts), once at the rpc edge,
 * so garbage is refused with a sentence instead of being stored.
 */
import { z } from 'zod';
import type { TrialResult } from '../science/types.js';
import { InvalidRequestError } from './errors.js';

const finite = z.number().finite();

const epochRecord = z
  .object({
    epoch: z.number().int().min(0),
    trainLoss: z.number().or(z.null()),
    testLoss: z.number().or(z.null()),
    testAccuracy: finite.min(0).max(1),
    examplesPerSec: finite.min(0),
    durationMs: finite.min(0),
  })
  .passthrough();

export const epochRecordsSchema = z.array(epochRecord);

export const trialResultSchema = z
  .object({
    status: z.enum(['succeeded', 'diverged', 'cancelled']),
    backend: z.string(),
    bestTestAccuracy: finite.min(0).max(1),
    bestEpoch: z.number().int().min(0),
    finalTestAccuracy: finite.min(0).max(1),
    epochs: z.array(epochRecord),
    divergedAtEpoch: z.number().int().optional(),
    checkpoints: z.array(
      z.object({ name: z.string().min(1), sha256: z.string(), epoch: z.number().int(), testAccuracy: finite }).passthrough(),
    ),
    wallMs: finite.min(0),
  })
  .passthrough();

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  return `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`;
}

/** Parse `what` (e.g. "result_json of task X") as JSON and validate it with `schema`. */
export function parseJsonField<T>(text: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidRequestError(`${what} is not valid JSON: ${(e as Error).message}`, { what });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InvalidRequestError(`${what} is not a valid ${schemaName(schema)}: ${firstIssue(parsed.error)}`, { what });
  return parsed.data;
}

function schemaName(schema: unknown): string {
  return schema === trialResultSchema ? 'TrialResult' : 'value';
}

export function parseTrialResult(text: string, taskId: string): TrialResult {
  return parseJsonField(text, trialResultSchema, `result_json of task ${taskId}`) as unknown as TrialResult;
}
