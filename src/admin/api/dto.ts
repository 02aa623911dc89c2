/** What the JSON API answers: stored records with times as ISO strings, shaped by `schemas.ts`. */
import type { JobRecord } from '../../core/domain/job.js'
import type { AgedHorizonHolder, StorageHealth, TableHealth } from '../../core/domain/storage-health.js'
import type { OrphanReport, ScheduleRecord } from '../../core/ports/store.js'

/** Epoch ms as an ISO 8601 UTC time. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString()
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms)
}

/** A job for the API; `logs` only when the record has them (the job detail). */
export function jobDto(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    kind: job.kind,
    queue: job.queue,
    state: job.state,
    payload: job.payload,
    priority: job.priority,
    runAt: isoTime(job.runAt),
    createdAt: isoTime(job.createdAt),
    attempt: job.attempt,
    runs: job.runs,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    weight: job.weight,
    uniqueKey: job.uniqueKey,
    groupKey: job.groupKey,
    groupMode: job.groupMode,
    groupLockTimeoutMs: job.groupLockTimeoutMs,
    dependsOn: job.dependsOn,
    metadata: job.metadata,
    tags: job.tags,
    workflowState: job.workflowState,
    errors: job.errors.map((e) => ({
      attempt: e.attempt,
      at: isoTime(e.at),
      name: e.name,
      message: e.message,
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
    })),
    attemptedAt: isoOrNull(job.attemptedAt),
    attemptedBy: job.attemptedBy,
    finishedAt: isoOrNull(job.finishedAt),
    scheduleName: job.scheduleName,
    scheduleTick: isoOrNull(job.scheduleTick),
    traceContext: job.traceContext,
    ...(job.logs === undefined
      ? {}
      : {
          logs: job.logs.map((run) => ({
            attempt: run.attempt,
            lines: run.lines.map((line) => ({
              at: isoTime(line.at),
              level: line.level,
              message: line.message,
              ...(line.fields !== undefined ? { fields: line.fields } : {}),
            })),
            ...(run.dropped !== undefined ? { dropped: run.dropped } : {}),
          })),
        }),
  }
}

/** A schedule for the API: the expression, the job it enqueues with its options, and its run times. */
export function scheduleDto(schedule: ScheduleRecord): Record<string, unknown> {
  const t = schedule.jobTemplate
  return {
    name: schedule.name,
    expression: schedule.expression,
    timezone: schedule.timezone,
    kind: schedule.kind,
    payload: schedule.payload,
    options: {
      queue: t.queue,
      priority: t.priority,
      maxAttempts: t.maxAttempts,
      timeoutMs: t.timeoutMs,
      weight: t.weight,
      groupKey: t.groupKey,
      groupMode: t.groupMode,
      groupLockTimeoutMs: t.groupLockTimeoutMs,
      metadata: t.metadata,
      tags: t.tags,
    },
    missed: schedule.missedPolicy,
    startAt: isoOrNull(schedule.startAt),
    after: schedule.after,
    nextRunAt: isoOrNull(schedule.nextRunAt),
    lastTickAt: isoOrNull(schedule.lastTickAt),
    lastSuccessAt: isoOrNull(schedule.lastSuccessAt),
    createdAt: isoTime(schedule.createdAt),
    updatedAt: isoTime(schedule.updatedAt),
  }
}

/** Orphans for the API (`GET /orphans`, `conveyor status --json`): jobs by queue and kind, and schedules. */
export function orphansDto(report: OrphanReport): Record<string, unknown> {
  return {
    jobs: report.jobs.map((g) => ({
      queue: g.queue,
      kind: g.kind,
      count: g.count,
      oldestRunAt: isoTime(g.oldestRunAt),
    })),
    schedules: report.schedules.map(scheduleDto),
  }
}

/** Storage health for the API (`GET /storage/health`, `conveyor status --json`), times as ISO strings. */
export function storageHealthDto(health: StorageHealth): Record<string, unknown> {
  const holder = (h: AgedHorizonHolder) => ({
    kind: h.kind,
    pid: h.pid,
    name: h.name,
    state: h.state,
    user: h.user,
    database: h.database,
    xmin: h.xmin,
    xminAge: h.xminAge,
    heldMs: h.heldMs,
    transactionStartedAt: isoOrNull(h.transactionStartedAt),
    queryStartedAt: isoOrNull(h.queryStartedAt),
    query: h.query,
  })
  const table = (t: TableHealth) => ({
    name: t.name,
    liveTuples: t.liveTuples,
    deadTuples: t.deadTuples,
    totalBytes: t.totalBytes,
    indexBytes: t.indexBytes,
    lastVacuumAt: isoOrNull(t.lastVacuumAt),
    lastAutovacuumAt: isoOrNull(t.lastAutovacuumAt),
  })
  return {
    checkedAt: isoTime(health.checkedAt),
    database: health.database,
    schema: health.schema,
    tables: health.tables.map(table),
    holders: health.holders.map(holder),
    oldestTransactionAgeMs: health.oldestTransactionAgeMs,
    thresholds: health.thresholds,
    warnings: health.warnings.map((w) => ({
      rule: w.rule,
      message: w.message,
      table: w.table,
      holder: holder(w.holder),
    })),
  }
}
