import { NpfError } from '../../common/errors.js';

/**
 * A trial spec that is valid alone but cannot run as given: impossible with its dataset (softmax
 * on a one-output regression dataset), or asking for something this build has not wired
 * (kernel measurements without a measurement module). Never retried.
 */
export class TrialSetupError extends NpfError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('TRIAL_SETUP', message, context);
  }
}
