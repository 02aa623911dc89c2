/** pg-boss's worker for the child process: `localConcurrency` 10, a no-op handler per job. */
import { PgBoss, type WorkOptions } from 'pg-boss'
import { CONCURRENCY, PG_BOSS_BEST_BATCH } from './configs.js'
import type { ConsumerFactory } from './consumers.js'
import { PG_BOSS_SCHEMA } from './pg-boss.js'

export const createConsumer: ConsumerFactory = async (target, config, onJob) => {
  const boss = new PgBoss({
    connectionString: target.databaseUrl!,
    schema: PG_BOSS_SCHEMA,
    ...(config === 'notify' ? { useListenNotify: true } : {}),
  })
  boss.on('error', () => {})
  const options: WorkOptions =
    config === 'best'
      ? { localConcurrency: CONCURRENCY, batchSize: PG_BOSS_BEST_BATCH, burstWhenBatchFull: true }
      : { localConcurrency: CONCURRENCY }
  return {
    async start() {
      await boss.start()
      await boss.work<{ i: number }>(target.queueName, options, async (jobs) => {
        for (const job of jobs) onJob(job.data.i)
      })
    },
    stop: () => boss.stop({ graceful: true, timeout: 10_000 }),
  }
}
