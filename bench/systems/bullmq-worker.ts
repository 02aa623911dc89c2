/** BullMQ's worker for the child process: concurrency 10, a no-op processor. */
import { Worker, type WorkerOptions } from 'bullmq'
import { redisConnection } from './bullmq.js'
import { CONCURRENCY } from './configs.js'
import type { ConsumerFactory } from './consumers.js'

export const createConsumer: ConsumerFactory = async (target, _config, onJob) => {
  const options: WorkerOptions = {
    connection: redisConnection(target),
    concurrency: CONCURRENCY,
    autorun: false,
  }
  let worker: Worker | undefined
  return {
    async start() {
      worker = new Worker<{ i: number }>(
        target.queueName,
        async (job) => {
          onJob(job.data.i)
        },
        options,
      )
      worker.on('error', () => {})
      await worker.waitUntilReady()
      void worker.run()
    },
    async stop() {
      await worker?.close()
    },
  }
}
