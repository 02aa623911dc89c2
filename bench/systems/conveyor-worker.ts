/** Conveyor's worker for the child process: one queue, concurrency 10, a no-op handler. */
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { CONCURRENCY, CONVEYOR_TUNED_PREFETCH, SESSION_LOCK_EXPERIMENT } from './configs.js'
import type { ConsumerFactory } from './consumers.js'
import { CONVEYOR_SCHEMA, noopJob } from './conveyor.js'
import { useSessionLockClaims } from './conveyor-session-lock.js'

export const createConsumer: ConsumerFactory = async (target, config, onJob) => {
  const queue = createPostgresQueue({
    connectionString: target.databaseUrl!,
    schema: CONVEYOR_SCHEMA,
    queues: { default: { concurrency: CONCURRENCY } },
    ...(config === 'tuned' ? { prefetch: CONVEYOR_TUNED_PREFETCH } : {}),
  })
  // An async no-op, like every peer's handler (a synchronous one settles on a cheaper path).
  queue.register(noopJob, async (payload) => {
    onJob(payload.i)
  })
  const closeLocker =
    config === SESSION_LOCK_EXPERIMENT
      ? await useSessionLockClaims(queue, target.databaseUrl!, CONVEYOR_SCHEMA)
      : async () => {}
  return {
    start: () => queue.start(),
    stop: async () => {
      await queue.shutdown()
      await closeLocker()
    },
  }
}
