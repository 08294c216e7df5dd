/**
 * Base of every typed error in npf-sweep. A user sees `message`: one sentence saying what was
 * wrong and where. Context (file, field path, task id...) is kept on the instance for logs and
 * for the gRPC status mapping at the rpc edge.
 */
export class NpfError extends Error {
  /** Stable machine-readable code, e.g. 'DATASET_CORRUPT'. */
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = Object.freeze({ ...context });
  }
}

/** A value the user gave (flag, spec field, file) is invalid. Never retried. */
export class InvalidInputError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, context, options);
  }
}

/** Short, user-facing text of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
