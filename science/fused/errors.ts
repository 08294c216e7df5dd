import { NpfError } from '../../common/errors.js';

/**
 * Trials that cannot train as one stack: they differ in something the stack shares (dataset,
 * architecture, regime, batch size, epochs, loss, backend...), or one of them asks for
 * something fused training does not do (conv networks, kernel measurements). Names the member
 * and the field. Never retried: run such trials unfused.
 */
export class FusionError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('FUSION_INCOMPATIBLE', message, context);
  }
}
