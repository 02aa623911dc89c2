/** Conveyor's parent-side driver: migrations, producer, progress counter and retained rows. */
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { SystemDriver } from '../lib/types.js'
import { openPgCounter, runSql } from './pg-counter.js'

/** Schema of Conveyor's tables in the bench databases. */
export const CONVEYOR_SCHEMA = 'conveyor'
/** The job kind every Conveyor run uses. */
export const noopJob = defineJob<{ i: number }>({ kind: 'noop' })

export const conveyorDriver: SystemDriver = {
  system: 'conveyor',
  backend: 'postgres',

  async prepare(target) {
    const queue = createPostgresQueue({ connectionString: target.databaseUrl!, schema: CONVEYOR_SCHEMA })
    try {
      await queue.migrate()
    } finally {
      await queue.shutdown()
    }
  },

  async openProducer(target) {
    const queue = createPostgresQueue({ connectionString: target.databaseUrl!, schema: CONVEYOR_SCHEMA })
    return {
      async enqueueOne(i) {
        await queue.enqueue(noopJob, { i })
      },
      async enqueueMany(indexes) {
        await queue.enqueueMany(indexes.map((i) => ({ job: noopJob, payload: { i } })))
      },
      close: () => queue.shutdown(),
    }
  },

  openCounter(target) {
    // Each half matches one partial index's predicate (claim, running), so the count stays an
    // index-only scan of the unfinished jobs even with a million finished rows in the table.
    return openPgCounter(
      target.databaseUrl!,
      `SELECT ((SELECT count(*) FROM "${CONVEYOR_SCHEMA}".jobs WHERE state IN ('scheduled', 'available', 'retryable'))
             + (SELECT count(*) FROM "${CONVEYOR_SCHEMA}".jobs WHERE state = 'running'))::int AS n`,
      async (client, n) => {
        const { rows } = await client.query<{ state: string; jobs: number; max_attempt: number }>(
          `SELECT state, count(*)::int AS jobs, max(attempt)::int AS max_attempt
             FROM (SELECT state, attempt, kind FROM "${CONVEYOR_SCHEMA}".jobs
                   UNION ALL SELECT state, attempt, kind FROM "${CONVEYOR_SCHEMA}".job_history) j
            WHERE kind = 'noop' GROUP BY state`,
        )
        const done = rows.find((r) => r.state === 'succeeded')
        const others = rows.filter((r) => r.state !== 'succeeded')
        if (others.length)
          return `jobs not succeeded: ${others.map((r) => `${r.state}=${r.jobs}`).join(', ')}`
        if ((done?.jobs ?? 0) !== n) return `${done?.jobs ?? 0} of ${n} jobs succeeded`
        if ((done?.max_attempt ?? 1) > 1) return `some job needed ${done?.max_attempt} attempts`
        return null
      },
    )
  },

  async insertRetained(target, count) {
    await runSql(
      target.databaseUrl!,
      // Finished jobs live in the history table since migration 009.
      `INSERT INTO "${CONVEYOR_SCHEMA}".job_history
         (id, kind, queue, state, payload, run_at, created_at, attempt, max_attempts, attempted_at, finished_at)
       SELECT nextval('"${CONVEYOR_SCHEMA}".jobs_id_seq'), 'retained', 'default', 'succeeded', jsonb_build_object('r', g),
              now() - interval '1 hour', now() - interval '1 hour', 1, 25,
              now() - interval '1 hour', now() - interval '1 hour'
         FROM generate_series(1, $1::int) AS g`,
      [count],
    )
  },
}
