/** graphile-worker's runner for the child process: concurrency 10, a no-op task. */
import { type RunnerOptions, run } from 'graphile-worker'
import { CONCURRENCY, GRAPHILE_BEST_LOCAL_QUEUE } from './configs.js'
import type { ConsumerFactory } from './consumers.js'
import { silentLogger } from './graphile-worker.js'

export const createConsumer: ConsumerFactory = async (target, config, onJob) => {
  const options: RunnerOptions = {
    connectionString: target.databaseUrl!,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger: silentLogger,
    taskList: {
      noop: async (payload) => {
        onJob((payload as { i: number }).i)
      },
    },
    ...(config === 'best'
      ? {
          maxPoolSize: CONCURRENCY + 1,
          preset: {
            worker: {
              localQueue: { size: GRAPHILE_BEST_LOCAL_QUEUE },
              completeJobBatchDelay: 0,
              failJobBatchDelay: 0,
            },
          },
        }
      : {}),
  }
  let runner: Awaited<ReturnType<typeof run>> | undefined
  return {
    async start() {
      runner = await run(options)
    },
    async stop() {
      await runner?.stop()
    },
  }
}
