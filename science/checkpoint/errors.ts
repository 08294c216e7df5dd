import { NpfError } from '../../common/errors.js';

/** What is wrong with a checkpoint file. */
export type CheckpointProblem = 'missing' | 'hash-mismatch' | 'truncated' | 'bad-header' | 'wrong-shape' | 'wrong-kind';

/**
 * A checkpoint cannot be used: missing, corrupt (hash mismatch, truncated, bad header) or made
 * for another network (other arch, width or depth, or not a ReLU network). Never retried.
 */
export class CheckpointError extends NpfError {
  readonly file: string;
  readonly problem: CheckpointProblem;
  constructor(file: string, problem: CheckpointProblem, detail: string, options?: { cause?: unknown }) {
    super(problem === 'wrong-shape' || problem === 'wrong-kind' ? 'CHECKPOINT_MISMATCH' : 'CHECKPOINT_CORRUPT', `checkpoint ${file}: ${detail}`, { file, problem }, options);
    this.file = file;
    this.problem = problem;
  }
}
