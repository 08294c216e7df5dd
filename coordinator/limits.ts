/**
 * The coordinator's input limits, in one place (docs/limits.md lists them with their reasons),
 * and the check of every request against them at the rpc edge, before a handler (or any
 * allocation sized by the request) runs. A refusal is an InvalidRequestError naming the field
 * and the limit; the server interceptor answers it as INVALID_ARGUMENT.
 *
 * Pure: `checkRequest(method, message)` reads a decoded message and throws or returns.
 */
import { undecodableReason } from './decode-guard.js';
import { InvalidRequestError } from './errors.js';

export const LIMITS = {
  /** spec_yaml of SubmitSweep, bytes (UTF-8). */
  specBytes: 1024 * 1024,
  /** overrides of SubmitSweep: how many, and the characters of one. */
  overrides: 64,
  overrideChars: 4096,
  /** Largest list index an override path may name (axes.seeds[N]); bounds the list it can grow. */
  overrideIndex: 1000,
  /** Ids: sweep, task and worker ids (the coordinator's own are 64 hex characters or shorter). */
  idChars: 128,
  /** Display names: file_name, hostname, version, artifact names, backends, GPU names. */
  nameChars: 256,
  /** backends of RegisterWorker. */
  backends: 32,
  /** A worker's declared resources: GPUs (whole devices; also the most gpu_names), CPU cores, memory in MiB. */
  workerGpus: 64,
  workerCpus: 4096,
  workerMemoryMb: 64 * 1024 * 1024,
  /** max_bundle of RegisterWorker: members of one bundle of fused trials (docs/fusion.md). */
  maxBundle: 64,
  /** max_tasks of LeaseTasks and lease_next of CompleteTask(s). */
  leaseBatch: 256,
  /** wait_ms of LeaseTasks (a long poll), ms. */
  leaseWaitMs: 5 * 60_000,
  /** tasks of one Heartbeat, the characters of one epochs_json, and the epoch records in it. */
  heartbeatTasks: 1024,
  epochsJsonChars: 1024 * 1024,
  epochRecords: 1000,
  /** result_json of a completion, characters. */
  resultJsonChars: 8 * 1024 * 1024,
  /** artifacts named by one completion. */
  completionArtifacts: 256,
  /** items of CompleteTasks. */
  completeBatch: 256,
  /** error of FailTask, characters. */
  errorChars: 16 * 1024,
  /** sweep_ids/task_ids lists (CancelSweep). */
  idList: 100_000,
  /** An upload that sends nothing for this long is ended and its temporary file removed, ms. */
  uploadIdleMs: 60_000,
  /** Events a WatchSweep consumer may fall behind (written but not taken by the client) before it is closed. */
  watchBacklog: 10_000,
  /** Default ceiling on the trials of one sweep; `--max-trials-per-sweep`; a spec can only lower it. */
  maxTrialsPerSweep: 10_000,
  /** Default quota on the bytes of artifacts recorded for the tasks of one sweep; `--max-artifact-bytes-per-sweep`. */
  artifactBytesPerSweep: 64 * 1024 ** 3,
} as const;

export type Limits = typeof LIMITS;

type Msg = Record<string, unknown>;

function refuse(field: string, why: string): never {
  throw new InvalidRequestError(`${field}: ${why}`, { field });
}

function str(m: Msg, key: string, max: number, field = key): void {
  const v = m[key];
  if (typeof v === 'string' && v.length > max) refuse(field, `${v.length} characters, more than the limit ${max}`);
}

function list(m: Msg, key: string, max: number, field = key): unknown[] {
  const v = m[key];
  if (!Array.isArray(v)) return [];
  if (v.length > max) refuse(field, `${v.length} entries, more than the limit ${max}`);
  return v;
}

function num(m: Msg, key: string, min: number, max: number, field = key): void {
  const v = m[key];
  if (typeof v !== 'number') return;
  if (!Number.isFinite(v)) refuse(field, `must be a finite number, got ${String(v)}`);
  if (v < min || v > max) refuse(field, `must be between ${min} and ${max}, got ${v}`);
}

/** The largest `[N]` index in an override's path (before the '='), or -1. */
export function largestOverrideIndex(entry: string): number {
  const eq = entry.indexOf('=');
  const path = eq >= 0 ? entry.slice(0, eq) : entry;
  let max = -1;
  for (const m of path.matchAll(/\[(\d+)\]/g)) max = Math.max(max, m[1].length > 15 ? Infinity : Number(m[1]));
  return max;
}

/** Check one override `path=value` against the limits (also used by the spec parser). */
export function checkOverride(entry: string, field: string): void {
  if (entry.length > LIMITS.overrideChars) refuse(field, `${entry.length} characters, more than the limit ${LIMITS.overrideChars}`);
  const index = largestOverrideIndex(entry);
  if (index > LIMITS.overrideIndex) refuse(field, `list index ${Number.isFinite(index) ? index : '(too long)'} is more than the limit ${LIMITS.overrideIndex}`);
}

function artifactRef(m: unknown, field: string): void {
  if (!m || typeof m !== 'object') return;
  const a = m as Msg;
  str(a, 'name', LIMITS.nameChars, `${field}.name`);
  str(a, 'sha256', 64, `${field}.sha256`);
  num(a, 'size', 0, Number.MAX_SAFE_INTEGER, `${field}.size`);
  num(a, 'epoch', 0, 1_000_000, `${field}.epoch`);
}

function completion(m: Msg, field: string): void {
  str(m, 'workerId', LIMITS.idChars, `${field}worker_id`);
  str(m, 'workerSecret', LIMITS.idChars, `${field}worker_secret`);
  str(m, 'taskId', LIMITS.idChars, `${field}task_id`);
  num(m, 'fencingToken', 0, Number.MAX_SAFE_INTEGER, `${field}fencing_token`);
  str(m, 'resultJson', LIMITS.resultJsonChars, `${field}result_json`);
  num(m, 'leaseNext', 0, LIMITS.leaseBatch, `${field}lease_next`);
  list(m, 'artifacts', LIMITS.completionArtifacts, `${field}artifacts`).forEach((a, i) => artifactRef(a, `${field}artifacts[${i}]`));
}

/** Count the top-level records of a JSON array text without building it when it is too long. */
function epochRecordCount(text: string): number {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.length : 0;
  } catch {
    return 0; // not JSON: the core refuses it with its own message
  }
}

/**
 * Check a decoded request of `method` (the rpc's name, e.g. 'SubmitSweep') against LIMITS;
 * throws InvalidRequestError naming the field and the limit. Unknown methods pass.
 */
export function checkRequest(method: string, message: unknown): void {
  if (!message || typeof message !== 'object') return;
  const undecodable = undecodableReason(message);
  if (undecodable !== undefined) {
    const int64 = /MAX_SAFE_INTEGER|MIN_SAFE_INTEGER/.test(undecodable);
    refuse(
      'request',
      int64
        ? `an int64 field is outside the range a number holds exactly (-2^53..2^53): ${undecodable}`
        : `the message could not be decoded: ${undecodable}`,
    );
  }
  const m = message as Msg;
  switch (method) {
    case 'SubmitSweep': {
      const spec = m.specYaml;
      if (typeof spec === 'string' && Buffer.byteLength(spec, 'utf8') > LIMITS.specBytes) {
        refuse('spec_yaml', `${Buffer.byteLength(spec, 'utf8')} bytes, more than the limit ${LIMITS.specBytes}`);
      }
      str(m, 'fileName', LIMITS.nameChars, 'file_name');
      list(m, 'overrides', LIMITS.overrides).forEach((o, i) => {
        if (typeof o === 'string') checkOverride(o, `overrides[${i}]`);
      });
      return;
    }
    case 'GetSweep':
    case 'GetResults':
    case 'WatchSweep':
      str(m, 'sweepId', LIMITS.idChars, 'sweep_id');
      str(m, 'format', 32);
      return;
    case 'CancelSweep':
      str(m, 'sweepId', LIMITS.idChars, 'sweep_id');
      list(m, 'taskIds', LIMITS.idList, 'task_ids').forEach((t, i) => {
        if (typeof t === 'string' && t.length > LIMITS.idChars) refuse(`task_ids[${i}]`, `${t.length} characters, more than the limit ${LIMITS.idChars}`);
      });
      return;
    case 'RegisterWorker': {
      str(m, 'hostname', LIMITS.nameChars);
      str(m, 'version', LIMITS.nameChars);
      list(m, 'backends', LIMITS.backends).forEach((b, i) => {
        if (typeof b === 'string' && b.length > LIMITS.nameChars) refuse(`backends[${i}]`, `${b.length} characters, more than the limit ${LIMITS.nameChars}`);
      });
      list(m, 'gpuNames', LIMITS.workerGpus, 'gpu_names').forEach((g, i) => {
        if (typeof g === 'string' && g.length > LIMITS.nameChars) refuse(`gpu_names[${i}]`, `${g.length} characters, more than the limit ${LIMITS.nameChars}`);
      });
      const r = m.resources as Msg | undefined;
      if (r) {
        num(r, 'cpu', 0, LIMITS.workerCpus, 'resources.cpu');
        num(r, 'gpu', 0, LIMITS.workerGpus, 'resources.gpu');
        if (typeof r.gpu === 'number' && !Number.isInteger(r.gpu)) refuse('resources.gpu', `a worker offers whole GPUs, got ${r.gpu}`);
        num(r, 'memoryMb', 0, LIMITS.workerMemoryMb, 'resources.memory_mb');
      }
      num(m, 'maxBundle', 0, LIMITS.maxBundle, 'max_bundle');
      return;
    }
    case 'LeaseTasks':
      str(m, 'workerId', LIMITS.idChars, 'worker_id');
      str(m, 'workerSecret', LIMITS.idChars, 'worker_secret');
      num(m, 'maxTasks', 0, LIMITS.leaseBatch, 'max_tasks');
      num(m, 'waitMs', 0, LIMITS.leaseWaitMs, 'wait_ms');
      return;
    case 'Heartbeat':
      str(m, 'workerId', LIMITS.idChars, 'worker_id');
      str(m, 'workerSecret', LIMITS.idChars, 'worker_secret');
      list(m, 'tasks', LIMITS.heartbeatTasks).forEach((t, i) => {
        if (!t || typeof t !== 'object') return;
        const p = t as Msg;
        const f = `tasks[${i}]`;
        str(p, 'taskId', LIMITS.idChars, `${f}.task_id`);
        num(p, 'fencingToken', 0, Number.MAX_SAFE_INTEGER, `${f}.fencing_token`);
        num(p, 'epoch', 0, 1_000_000, `${f}.epoch`);
        str(p, 'epochsJson', LIMITS.epochsJsonChars, `${f}.epochs_json`);
        if (typeof p.epochsJson === 'string' && p.epochsJson.length > 2) {
          const n = epochRecordCount(p.epochsJson);
          if (n > LIMITS.epochRecords) refuse(`${f}.epochs_json`, `${n} epoch records, more than the limit ${LIMITS.epochRecords}`);
        }
      });
      return;
    case 'CompleteTask':
      completion(m, '');
      return;
    case 'CompleteTasks':
      num(m, 'leaseNext', 0, LIMITS.leaseBatch, 'lease_next');
      list(m, 'items', LIMITS.completeBatch).forEach((it, i) => {
        if (it && typeof it === 'object') completion(it as Msg, `items[${i}].`);
      });
      return;
    case 'FailTask':
      str(m, 'workerId', LIMITS.idChars, 'worker_id');
      str(m, 'workerSecret', LIMITS.idChars, 'worker_secret');
      str(m, 'taskId', LIMITS.idChars, 'task_id');
      num(m, 'fencingToken', 0, Number.MAX_SAFE_INTEGER, 'fencing_token');
      str(m, 'error', LIMITS.errorChars);
      return;
    case 'UploadArtifact': {
      const h = m.header as Msg | undefined;
      if (h) {
        str(h, 'taskId', LIMITS.idChars, 'header.task_id');
        str(h, 'workerId', LIMITS.idChars, 'header.worker_id');
        str(h, 'workerSecret', LIMITS.idChars, 'header.worker_secret');
        num(h, 'fencingToken', 0, Number.MAX_SAFE_INTEGER, 'header.fencing_token');
        artifactRef(h.ref, 'header.ref');
      }
      return;
    }
    case 'DownloadArtifact':
      str(m, 'sha256', 64);
      return;
    default:
      return;
  }
}
