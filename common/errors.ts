/**
 * Base of every typed error in npf-sweep. A user sees `message`: one sentence saying what was
 * wrong and where. Context (file, field path, task id...) is kept on the instance for logs and
 * for the gRPC status mapping at the rpc edge.
 */
export class NpfError extends Error {
  /** Stable machine-readable code, e.g. 'DATASET_CORRUPT'. */
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;
  /**
   * Whether doing the same thing again may succeed: the failure is about this machine or this
   * moment (a dataset missing here, a backend this host lacks, a coordinator not answering), not
   * about the request (a bad spec, corrupt data, a stale lease), which fails the same way every
   * time. Each class sets it; the default is false.
   */
  readonly retryable: boolean;

  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: NpfErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.context = Object.freeze({ ...context });
    this.retryable = options?.retryable ?? false;
  }
}

export interface NpfErrorOptions {
  cause?: unknown;
  /** See NpfError.retryable (default false). */
  retryable?: boolean;
}

/** A value the user gave (flag, spec field, file) is invalid. Never retried. */
export class InvalidInputError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, context, { cause: options?.cause, retryable: false });
  }
}

/** Short, user-facing text of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
