/**
 * SQLite schema of the coordinator, as ordered migrations. `schema_version` holds the number of
 * migrations applied; a database written by a newer coordinator (higher version) is refused.
 */

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sweeps, tasks, attempts, progress, results, artifacts, events, workers',
    sql: `
      CREATE TABLE sweeps (
        sweep_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        file_name TEXT NOT NULL,
        spec_yaml TEXT NOT NULL,
        overrides_json TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        cells_total INTEGER NOT NULL,
        open_tasks INTEGER NOT NULL DEFAULT 0
      );
      -- Hot, small rows: the JSON documents live in task_docs so a state change rewrites little.
      CREATE TABLE tasks (
        seq INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL UNIQUE,
        cell_key TEXT NOT NULL,
        regime TEXT NOT NULL,
        parent_task_id TEXT,
        parent_checkpoint TEXT,
        has_dependants INTEGER NOT NULL DEFAULT 0,
        cpu REAL NOT NULL,
        gpu REAL NOT NULL,
        memory_mb INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        tries INTEGER NOT NULL DEFAULT 0,
        not_before_ms INTEGER NOT NULL DEFAULT 0,
        lease_worker TEXT,
        lease_expires_ms INTEGER,
        leased_at_ms INTEGER,
        gpu_indices TEXT NOT NULL DEFAULT '[]',
        error TEXT,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE TABLE task_docs (
        task_id TEXT PRIMARY KEY,
        key_json TEXT NOT NULL,
        spec_json TEXT NOT NULL
      );
      -- Only pending tasks are in the ready queue: leases and completions do not touch it.
      CREATE INDEX tasks_ready ON tasks (priority DESC, has_dependants DESC, seq) WHERE state = 'pending';
      CREATE INDEX tasks_worker ON tasks (lease_worker) WHERE lease_worker IS NOT NULL;
      CREATE INDEX tasks_parent ON tasks (parent_task_id) WHERE parent_task_id IS NOT NULL;
      CREATE INDEX tasks_lease_expiry ON tasks (lease_expires_ms) WHERE lease_expires_ms IS NOT NULL;
      CREATE TABLE sweep_tasks (
        sweep_id TEXT NOT NULL REFERENCES sweeps(sweep_id),
        task_id TEXT NOT NULL REFERENCES tasks(task_id),
        PRIMARY KEY (sweep_id, task_id)
      ) WITHOUT ROWID;
      CREATE INDEX sweep_tasks_task ON sweep_tasks (task_id);
      CREATE TABLE attempts (
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        worker_id TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER,
        outcome TEXT,
        error TEXT,
        PRIMARY KEY (task_id, attempt)
      ) WITHOUT ROWID;
      CREATE TABLE progress (
        task_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        record_json TEXT NOT NULL,
        PRIMARY KEY (task_id, attempt, epoch)
      ) WITHOUT ROWID;
      CREATE TABLE results (
        task_id TEXT PRIMARY KEY,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        result_json TEXT NOT NULL,
        completed_at_ms INTEGER NOT NULL
      );
      CREATE TABLE artifacts (
        task_id TEXT NOT NULL,
        name TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (task_id, name)
      ) WITHOUT ROWID;
      CREATE INDEX artifacts_sha ON artifacts (sha256);
      -- seq is the rowid: events are never deleted, so it only grows.
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        sweep_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        type TEXT NOT NULL,
        payload_json TEXT NOT NULL
      );
      CREATE INDEX events_sweep ON events (sweep_id, seq);
      CREATE TABLE workers (
        worker_id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        cpu REAL NOT NULL,
        gpu REAL NOT NULL,
        memory_mb INTEGER NOT NULL,
        backends_json TEXT NOT NULL,
        version TEXT NOT NULL,
        draining INTEGER NOT NULL DEFAULT 0,
        registered_at_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'events: the typed events of events/event-schema.ts (type task.<event> / sweep.<event>, typed payloads)',
    // Rows written before this version used the coordinator's own names and payloads; rewrite
    // them as the events the coordinator emits now. A progress event gets its trial's epoch count.
    sql: `
      UPDATE events SET type = 'sweep.submitted' WHERE type = 'sweep_submitted';
      UPDATE events SET type = 'task.leased',
        payload_json = CASE WHEN json_extract(payload_json, '$.gpuIndex') >= 0 THEN payload_json ELSE json_remove(payload_json, '$.gpuIndex') END
        WHERE type = 'leased';
      UPDATE events SET type = 'task.progress',
        payload_json = json_set(
          CASE WHEN json_type(payload_json, '$.trainLoss') = 'null' THEN json_remove(payload_json, '$.trainLoss') ELSE payload_json END,
          '$.epochs', coalesce((SELECT json_extract(d.spec_json, '$.epochs') FROM task_docs d WHERE d.task_id = events.task_id), 0))
        WHERE type = 'progress';
      UPDATE events SET type = 'task.succeeded',
        payload_json = json_set(json_remove(payload_json, '$.status'), '$.diverged', json(CASE WHEN json_extract(payload_json, '$.status') = 'diverged' THEN 'true' ELSE 'false' END))
        WHERE type = 'succeeded';
      UPDATE events SET type = 'task.failed',
        payload_json = json_object('attempt', coalesce(json_extract(payload_json, '$.attempt'), 0), 'reason', 'failed', 'message', coalesce(json_extract(payload_json, '$.error'), ''))
        WHERE type = 'failed';
      UPDATE events SET type = 'task.retried',
        payload_json = json_object(
          'attempt', coalesce(json_extract(payload_json, '$.attempt'), 0),
          'nextAttempt', coalesce(json_extract(payload_json, '$.attempt'), 0) + 1,
          'reason', CASE
            WHEN json_extract(payload_json, '$.error') LIKE 'lease expired%' THEN 'lease expired'
            WHEN json_extract(payload_json, '$.error') LIKE 'lease released%' THEN 'lease released'
            ELSE 'attempt failed' END,
          'message', coalesce(json_extract(payload_json, '$.error'), ''),
          'backoffMs', json_extract(payload_json, '$.backoffMs'))
        WHERE type = 'retried';
      UPDATE events SET type = 'task.cancelled', payload_json = json_object('reason', 'sweep cancelled') WHERE type = 'cancelled';
      UPDATE events SET type = 'sweep.cancelled',
        payload_json = json_object('reason', 'cancelled on request',
          'succeeded', coalesce(json_extract(payload_json, '$.counts.succeeded'), 0),
          'failed', coalesce(json_extract(payload_json, '$.counts.failed'), 0),
          'cancelled', coalesce(json_extract(payload_json, '$.counts.cancelled'), 0))
        WHERE type = 'sweep_complete' AND json_extract(payload_json, '$.state') = 'cancelled';
      UPDATE events SET type = 'sweep.complete',
        payload_json = json_object(
          'succeeded', coalesce(json_extract(payload_json, '$.counts.succeeded'), 0),
          'failed', coalesce(json_extract(payload_json, '$.counts.failed'), 0),
          'cancelled', coalesce(json_extract(payload_json, '$.counts.cancelled'), 0))
        WHERE type = 'sweep_complete';
    `,
  },
  {
    version: 3,
    description: 'sweeps.aggregation_json: the aggregation options resolved when the sweep was submitted',
    // NULL for sweeps submitted before this version: their options are derived from the stored spec.
    sql: `ALTER TABLE sweeps ADD COLUMN aggregation_json TEXT;`,
  },
  {
    version: 4,
    description: 'fused trials: tasks.fusion_key / fuse_max (which ready tasks may train as one stack), tasks.bundle_id (the bundle a lease belongs to), workers.max_bundle',
    // NULL fusion_key: the task never joins a bundle (every task submitted before this version).
    sql: `
      ALTER TABLE tasks ADD COLUMN fusion_key TEXT;
      ALTER TABLE tasks ADD COLUMN fuse_max INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tasks ADD COLUMN bundle_id TEXT;
      CREATE INDEX tasks_fusion_ready ON tasks (fusion_key, priority DESC, has_dependants DESC, seq) WHERE state = 'pending' AND fusion_key IS NOT NULL;
      ALTER TABLE workers ADD COLUMN max_bundle INTEGER NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 5,
    description: "sweep_tasks.key_json: a trial's labels as the sweep that names it gives them (a trial shared by two sweeps may be labelled differently in each)",
    // NULL for links made before this version: the trial's first key (task_docs.key_json) is used.
    sql: `ALTER TABLE sweep_tasks ADD COLUMN key_json TEXT;`,
  },
  {
    version: 6,
    description: 'workers.secret_sha256: SHA-256 of the secret issued to the worker at registration (the secret itself is never stored)',
    // NULL for workers registered before this version: they are asked to register again.
    sql: `ALTER TABLE workers ADD COLUMN secret_sha256 TEXT;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
