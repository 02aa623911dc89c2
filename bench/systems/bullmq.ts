/** BullMQ's parent-side driver on the local Redis: producer (Queue) and progress counter. */
import { Queue } from 'bullmq'
import type { SystemDriver, Target } from '../lib/types.js'

/** ioredis options for a target's Redis db (`maxRetriesPerRequest: null` as BullMQ requires). */
export function redisConnection(target: Target) {
  const r = target.redis!
  return { host: r.host, port: r.port, db: r.db, maxRetriesPerRequest: null }
}

export const bullmqDriver: SystemDriver = {
  system: 'bullmq',
  backend: 'redis',

  async prepare() {},

  async openProducer(target) {
    const queue = new Queue(target.queueName, { connection: redisConnection(target) })
    queue.on('error', () => {})
    await queue.waitUntilReady()
    return {
      async enqueueOne(i) {
        await queue.add('noop', { i })
      },
      async enqueueMany(indexes) {
        await queue.addBulk(indexes.map((i) => ({ name: 'noop', data: { i } })))
      },
      close: () => queue.close(),
    }
  },

  async openCounter(target) {
    const queue = new Queue(target.queueName, { connection: redisConnection(target) })
    queue.on('error', () => {})
    await queue.waitUntilReady()
    return {
      async remaining() {
        const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children')
        return Object.values(c).reduce((a, b) => a + b, 0)
      },
      async verify(n) {
        const c = await queue.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed')
        if ((c.failed ?? 0) > 0) return `${c.failed} jobs failed`
        const left = (c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0)
        if (left > 0) return `${left} jobs not finished`
        // With removeOnComplete the completed set is capped; the worker's own count checks the rest.
        if ((c.completed ?? 0) > n) return `${c.completed} completed jobs for ${n} enqueued`
        return null
      },
      close: () => queue.close(),
    }
  },
}
