/**
 * What the load soak runs, shared by its test and its child processes: the job kinds, the
 * deterministic retry plan (which jobs fail their first attempts), the schedules, and the tables in
 * which the processes record what happened (so the test checks the outcome from the database alone).
 */
import type { BackoffSpec } from '../../../src/core/domain/job.js'

/** Kind of the soak's work jobs (queue `default`). */
export const WORK_KIND = 'soak-work'

/** Kind of the schedules' jobs (queue `ticks`, so ticks never wait behind the work backlog). */
export const TICK_KIND = 'soak-tick'

/** The queue of the schedules' jobs. */
export const TICK_QUEUE = 'ticks'

/** Payload of a work job: its index in the stream and how many attempts fail before one succeeds. */
export interface WorkPayload {
  readonly i: number
  readonly failTimes: number
}

/**
 * How many first attempts of job `i` fail: every 25th job fails twice, every other 10th once,
 * the rest never: 12% of jobs retry, for 16% extra attempts in all.
 */
export function failTimesOf(i: number): number {
  if (i % 25 === 0) return 2
  if (i % 10 === 0) return 1
  return 0
}

/** Retries the plan asks for among the first `total` jobs (the sum of `failTimesOf`). */
export function expectedRetries(total: number): number {
  let sum = 0
  for (let i = 0; i < total; i++) sum += failTimesOf(i)
  return sum
}

/** Attempts a work job may take: more than the plan needs, so a surplus retry shows up as irregular. */
export const WORK_MAX_ATTEMPTS = 5

/** Short, jitter-free backoff so retries happen during the soak. */
export const WORK_BACKOFF: BackoffSpec = { baseMs: 20, factor: 2, maxMs: 200, jitter: 0 }

/** The recurring schedules every worker process registers at boot, as a deploy would. */
export const SCHEDULES: readonly {
  readonly name: string
  readonly expression: string
  readonly everyMs: number
}[] = [
  { name: 'soak-every-2s', expression: '@every 2s', everyMs: 2000 },
  { name: 'soak-every-3s', expression: '@every 3s', everyMs: 3000 },
  { name: 'soak-every-5s', expression: '@every 5s', everyMs: 5000 },
]

/** The tables the processes write (created by the test in the soak's schema). */
export function ledgerTablesSql(schema: string): string {
  const s = `"${schema}"`
  return `
    CREATE TABLE IF NOT EXISTS ${s}.soak_enqueued (job_id bigint PRIMARY KEY, fail_times int NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.soak_runs (id bigserial PRIMARY KEY, job_id bigint NOT NULL,
      attempt int NOT NULL, worker text NOT NULL, outcome text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE TABLE IF NOT EXISTS ${s}.soak_ticks (id bigserial PRIMARY KEY, schedule text NOT NULL, tick float8 NOT NULL,
      job_id bigint NOT NULL, worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    TRUNCATE ${s}.soak_enqueued, ${s}.soak_runs, ${s}.soak_ticks;`
}
