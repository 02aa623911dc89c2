/** pg-boss's parent-side driver: schema and queue, producer, progress counter and retained rows. */
import { PgBoss } from 'pg-boss'
import type { SystemDriver, Target } from '../lib/types.js'
import { openPgCounter, runSql } from './pg-counter.js'

/** Schema of pg-boss's tables in the bench databases (its default). */
export const PG_BOSS_SCHEMA = 'pgboss'

/** A pg-boss instance that only enqueues: no maintenance or scheduling in the producer process. */
function producerBoss(target: Target): PgBoss {
  const boss = new PgBoss({
    connectionString: target.databaseUrl!,
    schema: PG_BOSS_SCHEMA,
    supervise: false,
    schedule: false,
  })
  boss.on('error', () => {})
  return boss
}

export const pgBossDriver: SystemDriver = {
  system: 'pg-boss',
  backend: 'postgres',

  async prepare(target, config) {
    const boss = producerBoss(target)
    await boss.start()
    try {
      await boss.createQueue(target.queueName, config === 'notify' ? { notify: true } : {})
    } finally {
      await boss.stop({ graceful: false })
    }
  },

  async openProducer(target) {
    const boss = producerBoss(target)
    await boss.start()
    return {
      async enqueueOne(i) {
        await boss.send(target.queueName, { i })
      },
      async enqueueMany(indexes) {
        await boss.insert(
          target.queueName,
          indexes.map((i) => ({ data: { i } })),
        )
      },
      close: () => boss.stop({ graceful: false }),
    }
  },

  openCounter(target) {
    // The state list is implied by job_i14's predicate (the live states), so the count is an index
    // scan of the unfinished jobs only, however many completed jobs the table keeps.
    return openPgCounter(
      target.databaseUrl!,
      `SELECT count(*)::int AS n FROM "${PG_BOSS_SCHEMA}".job WHERE name = $1 AND state IN ('created', 'retry', 'active')`,
      async (client, n) => {
        const { rows } = await client.query<{ state: string; jobs: number; retries: number }>(
          `SELECT state::text, count(*)::int AS jobs, max(retry_count)::int AS retries
             FROM "${PG_BOSS_SCHEMA}".job WHERE name = $1 AND NOT (data ? 'r') GROUP BY state`,
          [target.queueName],
        )
        const done = rows.find((r) => r.state === 'completed')
        const others = rows.filter((r) => r.state !== 'completed')
        if (others.length)
          return `jobs not completed: ${others.map((r) => `${r.state}=${r.jobs}`).join(', ')}`
        if ((done?.jobs ?? 0) !== n) return `${done?.jobs ?? 0} of ${n} jobs completed`
        if ((done?.retries ?? 0) > 0) return 'some job was retried'
        return null
      },
      [target.queueName],
    )
  },

  async insertRetained(target, count) {
    // Completed jobs stay in pg-boss's job table (partitioned by queue name) until deleteAfterSeconds.
    await runSql(
      target.databaseUrl!,
      `INSERT INTO "${PG_BOSS_SCHEMA}".job (name, data, state, created_on, started_on, completed_on)
       SELECT $1, jsonb_build_object('r', g), 'completed',
              now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour'
         FROM generate_series(1, $2::int) AS g`,
      [target.queueName, count],
    )
  },
}
