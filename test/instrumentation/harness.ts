/**
 * What the instrumentation cases run on: a factory of queues on one adapter (each test's queues are
 * shut down after it), and the jobs the cases use.
 */
import { afterEach } from 'vitest'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { TracedQueueOptions as QueueOptions } from '../../src/instrumentation/default-middleware.js'

/** Makes a queue with `options` on the adapter under test (its jobs start empty for each test). */
export type MakeQueue = (options?: QueueOptions) => CoreQueue

/** A factory that shuts down every queue it made after each test. */
export function useQueues(make: MakeQueue): MakeQueue {
  const made: CoreQueue[] = []
  afterEach(async () => {
    await Promise.all(made.splice(0).map((q) => q.shutdown({ graceMs: 1000 })))
  })
  return (options) => {
    const queue = make(options)
    made.push(queue)
    return queue
  }
}

/** A job on queue `emails`. */
export const sendEmail = defineJob<{ to: string }>({ kind: 'send-email', queue: 'emails', maxAttempts: 3 })

/** A job on queue `reports`, tried once. */
export const buildReport = defineJob<{ id: number }>({
  kind: 'build-report',
  queue: 'reports',
  maxAttempts: 1,
})

/** Drains until no job is left to run (retries and snoozes included, whatever their run-at). */
export async function drainAll(queue: CoreQueue): Promise<number> {
  let total = 0
  for (let i = 0; i < 50; i++) {
    const { total: ran } = await queue.drain({ withScheduled: true })
    if (ran === 0) return total
    total += ran
  }
  throw new Error('drainAll: jobs kept coming after 50 drains')
}
