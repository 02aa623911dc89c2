/**
 * Inserting jobs: one statement for the whole batch (`unnest` of one array per column), duplicates
 * skipped by the unique indexes (`ON CONFLICT DO NOTHING`), one `pg_notify` per statement when a job
 * is available now (sent on commit, so a caller's transaction that rolls back wakes nobody), then
 * one more query for the jobs holding the keys of skipped duplicates.
 */
import { InvalidOptionsError } from '../../core/domain/errors.js'
import type { JobState } from '../../core/domain/job.js'
import { newJobRecord } from '../../core/domain/new-job-record.js'
import type { InsertOutcome, NewJob } from '../../core/ports/store.js'
import { jobIdSequenceBehind } from './errors.js'
import { bindColumns, bindSingle, type InsertSql } from './insert-sql.js'
import { isJobId } from './job-id.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type JobRow, toJobRecord } from './row-mapping.js'
import type { SqlNames } from './sql-names.js'

type InsertRow = {
  ord: number
  id: string | null
  state: JobState
  notified: number
  /** The statement's time (the bound `now`, else the database's). */
  now_ms: number
  missing_ids?: string[] | null
}

/** The error for a dependency on a job that does not exist (nothing of the batch is inserted). */
function unknownDependency(jobs: readonly NewJob[], index: number, id: string): InvalidOptionsError {
  return new InvalidOptionsError(
    `dependsOn of item ${index} (kind ${JSON.stringify(jobs[index]?.kind)}) names job ${JSON.stringify(id)}, which does not exist. ` +
      'Enqueue the dependency first and pass the id it returned (a job that was deleted or pruned cannot be depended on).',
  )
}

/** Whether two `fifo` jobs of the batch share a group (the `groupedUnkeyed` statement: insert-sql.ts). */
function sharesFifoGroup(jobs: readonly NewJob[]): boolean {
  const seen = new Set<string>()
  for (const job of jobs) {
    if (job.groupKey === null || (job.groupMode ?? 'fifo') !== 'fifo') continue
    if (seen.has(job.groupKey)) return true
    seen.add(job.groupKey)
  }
  return false
}

/** Inserts `jobs` on `target` and returns one outcome per job, in input order. */
export async function insertJobs(
  target: SqlTarget,
  names: SqlNames,
  sql: InsertSql,
  jobs: readonly NewJob[],
  now: number | undefined,
  round = 1,
): Promise<InsertOutcome[]> {
  if (jobs.length === 0) return []
  jobs.forEach((job, index) => {
    const bad = job.dependsOn.find((id) => !isJobId(id))
    if (bad !== undefined) throw unknownDependency(jobs, index, bad)
  })
  const withDependencies = jobs.some((j) => j.dependsOn.length > 0)
  const keyed = jobs.some((j) => j.uniqueKey !== null || j.scheduleTick !== null)
  const single = !withDependencies && jobs.length === 1
  const variant = withDependencies
    ? 'withDependencies'
    : single
      ? (`single${keyed ? '' : 'Unkeyed'}` as const)
      : keyed
        ? 'plain'
        : sharesFifoGroup(jobs)
          ? 'groupedUnkeyed'
          : 'plainUnkeyed'
  const rows = await queryRows<InsertRow>(target, {
    name: `${names.statementPrefix}insert_${variant}`,
    text: sql[variant],
    values: [...(single ? bindSingle(jobs[0]!) : bindColumns(jobs)), now ?? null, names.jobsChannel],
  })
  const missing = new Set(rows[0]?.missing_ids ?? [])
  if (missing.size > 0) {
    const isMissing = (id: string) => missing.has(BigInt(id).toString())
    const index = Math.max(
      0,
      jobs.findIndex((job) => job.dependsOn.some(isMissing)),
    )
    throw unknownDependency(jobs, index, jobs[index]?.dependsOn.find(isMissing) ?? [...missing][0]!)
  }
  const at = now ?? rows[0]?.now_ms ?? Date.now()
  const outcomes: (InsertOutcome | undefined)[] = new Array(jobs.length)
  for (const row of rows) {
    if (row.id === null) continue
    outcomes[row.ord - 1] = {
      job: newJobRecord(row.id, jobs[row.ord - 1]!, row.state, Math.round(at)),
      duplicate: false,
    }
  }
  await resolveDuplicates(target, names, sql, jobs, outcomes, now, round)
  return outcomes as InsertOutcome[]
}

/** Fills the outcomes of skipped jobs with the job holding their key, inserting again if it vanished. */
async function resolveDuplicates(
  target: SqlTarget,
  names: SqlNames,
  sql: InsertSql,
  jobs: readonly NewJob[],
  outcomes: (InsertOutcome | undefined)[],
  now: number | undefined,
  round: number,
): Promise<void> {
  const skipped = jobs.map((_, i) => i).filter((i) => outcomes[i] === undefined)
  if (skipped.length === 0) return
  const rows = await queryRows<JobRow & { ord: number }>(target, {
    name: `${names.statementPrefix}insert_holders`,
    text: sql.holders,
    values: [
      skipped.map((i) => i + 1),
      skipped.map((i) => jobs[i]!.kind),
      skipped.map((i) => jobs[i]!.uniqueKey),
      skipped.map((i) => jobs[i]!.scheduleName),
      skipped.map((i) => jobs[i]!.scheduleTick),
    ],
  })
  for (const row of rows) outcomes[row.ord - 1] = { job: toJobRecord(row), duplicate: true }
  // A holder that finished between the insert and this lookup frees its key: insert those jobs again.
  const vanished = skipped.filter((i) => outcomes[i] === undefined)
  if (vanished.length === 0) return
  if (round >= 5) {
    // ON CONFLICT also skips a collision on the primary key: a sequence behind the table's ids
    // looks like keys that keep vanishing. Say which it is.
    const [seq] = await queryRows<{ behind: boolean }>(target, {
      text: `SELECT coalesce(greatest((SELECT max(id) FROM ${names.jobs}), (SELECT max(id) FROM ${names.history})), 0) > (SELECT last_value FROM ${names.jobIdSequence}) AS behind`,
      values: [],
    })
    if (seq?.behind) throw jobIdSequenceBehind(names.schema, 'some')
    throw new Error('Conveyor could not insert jobs whose unique keys kept changing hands; try again.')
  }
  const retried = await insertJobs(
    target,
    names,
    sql,
    vanished.map((i) => jobs[i]!),
    now,
    round + 1,
  )
  vanished.forEach((i, k) => {
    outcomes[i] = retried[k]
  })
}
