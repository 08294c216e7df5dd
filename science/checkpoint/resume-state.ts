/**
 * A trial's resume state: everything needed to continue an interrupted trial after its last
 * finished epoch and end with the result an uninterrupted run gives (docs/resume.md). Stored in
 * the checkpoint file format (format.ts) as the checkpoint named 'resume', its header carrying
 * `resume` (ResumeMeta) and its tensors, by name prefix:
 *
 *   model.<tensor>          the network's weights (checkpointTensors names)
 *   opt.<i>                 the optimiser's state tensors (Optimizer.slots order), and its step count
 *   best.<tensor>           the best-so-far weights, when the trial keeps them (checkpoints requested)
 *   saved.<name>.<tensor>   each named checkpoint written so far ('best@10'...), re-written on resume
 *
 * The data order needs no tensor: each epoch's shuffle is drawn from the trial's seed, so the
 * resumed run draws (and discards) the permutations of the finished epochs.
 */
import { createHash } from 'node:crypto';
import type { EpochRecord, NpkPoint, NtkSplitPoint, TrialSpec } from '../types.js';
import { CheckpointError } from './errors.js';
import type { CheckpointContent, CheckpointHeader } from './format.js';

export const RESUME_CHECKPOINT_NAME = 'resume';

/** The header field of a resume state. */
export interface ResumeMeta {
  /** Hash of the trial's spec (its backend aside): a resume state is used by the same trial only. */
  trial: string;
  /** Epochs finished. */
  epoch: number;
  optimizer: { name: string; step: number; slots: number };
  best: { accuracy: number; epoch: number };
  /** The best-so-far weights are in the file (best.*). */
  hasBest: boolean;
  epochs: EpochRecord[];
  npk: NpkPoint[];
  ntkSplit: NtkSplitPoint[];
  /** Named checkpoints written so far, with the epoch and accuracy of their weights (saved.<name>.*). */
  saved: Array<{ name: string; epoch: number; testAccuracy: number }>;
  /** Training time so far, ms. */
  wallMs: number;
}

export type ResumeHeader = CheckpointHeader & { resume: ResumeMeta };

/** One named group of tensors of a resume state. */
export type TensorGroup = Array<{ name: string; shape: number[]; values: Float32Array }>;

/** What a resume state holds, decoded. */
export interface ResumeState {
  meta: ResumeMeta;
  model: TensorGroup;
  slots: TensorGroup;
  best: TensorGroup;
  saved: Map<string, TensorGroup>;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** The identity of a trial for its resume states: its spec without the backend (a resume may land on another worker's backend). */
export function resumeIdentity(spec: TrialSpec): string {
  const { backend: _backend, ...rest } = spec;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex');
}

/** Split a resume checkpoint into its groups; refuses (CheckpointError) a file that is no resume state of `spec`. */
export function decodeResumeState(content: CheckpointContent, spec: TrialSpec, file: string): ResumeState {
  const header = content.header as Partial<ResumeHeader>;
  const meta = header.resume;
  if (header.name !== RESUME_CHECKPOINT_NAME || !meta || typeof meta.epoch !== 'number' || !Array.isArray(meta.epochs)) {
    throw new CheckpointError(file, 'wrong-kind', `is a '${header.name}' checkpoint, not a resume state`);
  }
  if (meta.trial !== resumeIdentity(spec)) throw new CheckpointError(file, 'wrong-kind', 'is the resume state of another trial');
  if (meta.optimizer.name !== spec.optimizer.name) throw new CheckpointError(file, 'wrong-kind', `holds ${meta.optimizer.name} state, this trial uses ${spec.optimizer.name}`);
  const state: ResumeState = { meta, model: [], slots: [], best: [], saved: new Map() };
  content.header.tensors.forEach((t, i) => {
    const entry = { name: t.name, shape: t.shape, values: content.data[i] };
    const dot = t.name.indexOf('.');
    const group = t.name.slice(0, dot);
    const rest = t.name.slice(dot + 1);
    if (group === 'model') state.model.push({ ...entry, name: rest });
    else if (group === 'opt') state.slots.push({ ...entry, name: rest });
    else if (group === 'best') state.best.push({ ...entry, name: rest });
    else if (group === 'saved') {
      // Checkpoint names ('best', 'best@10') have no '.'; tensor names do ('hidden.0.kernel').
      const cut = rest.indexOf('.');
      const name = rest.slice(0, cut);
      const list = state.saved.get(name) ?? [];
      list.push({ ...entry, name: rest.slice(cut + 1) });
      state.saved.set(name, list);
    } else throw new CheckpointError(file, 'bad-header', `has a tensor '${t.name}' outside the resume groups`);
  });
  if (state.slots.length !== meta.optimizer.slots) throw new CheckpointError(file, 'bad-header', `has ${state.slots.length} optimiser tensors, its header says ${meta.optimizer.slots}`);
  return state;
}
