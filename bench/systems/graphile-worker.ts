/** graphile-worker's parent-side driver: migrations, producer (WorkerUtils) and progress counter. */
import { Logger, makeWorkerUtils, runMigrations } from 'graphile-worker'
import type { SystemDriver } from '../lib/types.js'
import { openPgCounter } from './pg-counter.js'

/** A logger that drops every line (graphile-worker logs each job at info level by default). */
export const silentLogger = new Logger(() => () => {})

export const graphileWorkerDriver: SystemDriver = {
  system: 'graphile-worker',
  backend: 'postgres',

  async prepare(target) {
    await runMigrations({ connectionString: target.databaseUrl!, logger: silentLogger })
  },

  async openProducer(target) {
    const utils = await makeWorkerUtils({ connectionString: target.databaseUrl!, logger: silentLogger })
    return {
      async enqueueOne(i) {
        await utils.addJob('noop', { i })
      },
      async enqueueMany(indexes) {
        await utils.addJobs(indexes.map((i) => ({ identifier: 'noop', payload: { i } })))
      },
      close: async () => {
        await utils.release()
      },
    }
  },

  openCounter(target) {
    // graphile-worker deletes a job's row when it succeeds: the rows left are the unfinished jobs
    // (a failed job stays with its error, so an empty table also means no job failed).
    return openPgCounter(
      target.databaseUrl!,
      'SELECT count(*)::int AS n FROM graphile_worker._private_jobs',
      async (client) => {
        const { rows } = await client.query<{ jobs: number; failed: number }>(
          `SELECT count(*)::int AS jobs, count(*) FILTER (WHERE last_error IS NOT NULL)::int AS failed
             FROM graphile_worker._private_jobs`,
        )
        const r = rows[0]!
        if (r.jobs > 0) return `${r.jobs} jobs left in the table (${r.failed} with errors)`
        return null
      },
    )
  },
}
