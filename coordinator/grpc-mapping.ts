/**
 * Between the generated protobuf messages (gen/npf/v1) and the core's own types: the only
 * place, with grpc-server.ts, where the coordinator sees generated types.
 */
import type {
  ArtifactRef as PbArtifactRef,
  CompleteTaskRequest,
  SweepInfo,
  TaskLease,
  UploadArtifactRequest,
  WatchSweepResponse,
} from '../gen/npf/v1/sweep.js';
import { EventDecodeError } from '../events/event-schema.js';
import type { SweepEvent } from './core/event-log.js';
import type { ArtifactRef, CompletionReport, Lease, SweepSummary, UploadHeader } from './core/types.js';

export function toArtifactRef(a: PbArtifactRef): ArtifactRef {
  return { name: a.name, sha256: a.sha256, size: a.size, epoch: a.epoch };
}

/** The lease as sent to a worker; the parent checkpoint travels as `gates_from`, an earlier attempt's resume state as `resume_from`. */
export function toTaskLease(l: Lease): TaskLease {
  return {
    taskId: l.taskId,
    sweepId: l.sweepId,
    fencingToken: l.fencingToken,
    specJson: l.specJson,
    gatesFrom: l.parentCheckpoint,
    resumeFrom: l.resumeFrom,
    resources: l.resources,
    gpuIndex: l.gpuIndex,
    bundleId: l.bundleId ?? '',
  };
}

export function toSweepInfo(s: SweepSummary): SweepInfo {
  return {
    sweepId: s.sweepId,
    name: s.name,
    state: s.state,
    createdAtMs: s.createdAtMs,
    counts: { ...s.counts },
    cellsComplete: s.cellsComplete,
    cellsTotal: s.cellsTotal,
    bundles: s.bundles,
    bundledTasks: s.bundledTasks,
  };
}

/** One CompleteTask request (or CompleteTasks item) as the core's report. */
export function toCompletionReport(r: Pick<CompleteTaskRequest, 'workerId' | 'taskId' | 'fencingToken' | 'resultJson' | 'artifacts'>): CompletionReport {
  return { workerId: r.workerId, taskId: r.taskId, fencingToken: r.fencingToken, resultJson: r.resultJson, artifacts: r.artifacts.map(toArtifactRef) };
}

/** The header message of an upload; a header without a ref has an empty one (refused by the core). */
export function toUploadHeader(h: NonNullable<UploadArtifactRequest['header']>): UploadHeader {
  return { taskId: h.taskId, fencingToken: h.fencingToken, workerId: h.workerId, ref: h.ref ? toArtifactRef(h.ref) : { name: '', sha256: '', size: 0, epoch: 0 } };
}

/** A WatchSweep message back as the event it carries (client side; the payload is the coordinator's JSON). */
export function fromWatchSweepResponse(m: WatchSweepResponse): SweepEvent {
  let payload: unknown;
  try {
    payload = JSON.parse(m.payloadJson || '{}');
  } catch (err) {
    throw new EventDecodeError(`event ${m.sequence} of sweep '${m.sweepId}' has a payload that is not JSON`, { sequence: m.sequence }, { cause: err });
  }
  const base = { type: m.type, sweepId: m.sweepId, payload, sequence: m.sequence, timeMs: m.timeMs };
  return (m.taskId ? { ...base, taskId: m.taskId } : base) as SweepEvent;
}

/** One stored event as WatchSweep streams it. */
export function toWatchSweepResponse(e: SweepEvent): WatchSweepResponse {
  return { sequence: e.sequence, timeMs: e.timeMs, sweepId: e.sweepId, taskId: e.taskId ?? '', type: e.type, payloadJson: JSON.stringify(e.payload) };
}
