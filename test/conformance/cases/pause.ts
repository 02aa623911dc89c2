import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { expectError, job, settle, useHarness, waitForState, waitWhileTicking } from '../helpers.js'

const work = defineJob<{ n: number }>({ kind: 'work' })

function record(h: Harness): string[] {
  const ran: string[] = []
  h.queue.register(work, ({ n }, ctx) => {
    ran.push(`${ctx.job.queue}:${n}`)
  })
  return ran
}

/** Pausing and resuming queues. */
export default function pauseCases(factory: HarnessFactory): void {
  describe('pause and resume', () => {
    const open = useHarness(factory)

    it('a paused queue is not drained; resuming runs its jobs', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(work, { n: 1 })
      await h.queue.pauseQueue('default')
      expect((await h.queue.drain()).total).toBe(0)
      expect(ran).toEqual([])
      await h.queue.resumeQueue('default')
      expect((await h.queue.drain()).total).toBe(1)
      expect(ran).toEqual(['default:1'])
    })

    it('pausing one queue leaves the others running', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(work, { n: 1 })
      await h.queue.enqueue(work, { n: 2 }, { queue: 'other' })
      await h.queue.pauseQueue('default')
      await h.queue.drain({ queues: ['default', 'other'] })
      expect(ran).toEqual(['other:2'])
    })

    it('jobs can still be enqueued into a paused queue', async () => {
      const h = await open()
      await h.queue.pauseQueue('default')
      const r = await h.queue.enqueue(work, { n: 1 })
      expect((await job(h, r.id)).state).toBe('available')
    })

    it('stats report the paused flag', async () => {
      const h = await open()
      await h.queue.enqueue(work, { n: 1 })
      await h.queue.pauseQueue('default')
      expect((await h.queue.stats()).find((s) => s.queue === 'default')?.paused).toBe(true)
      await h.queue.resumeQueue('default')
      expect((await h.queue.stats()).find((s) => s.queue === 'default')?.paused).toBe(false)
    })

    it('pausing a queue that has no jobs yet holds jobs enqueued later', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.pauseQueue('later')
      await h.queue.enqueue(work, { n: 1 }, { queue: 'later' })
      await h.queue.drain({ queues: ['later'] })
      expect(ran).toEqual([])
      await h.queue.resumeQueue('later')
      await h.queue.drain({ queues: ['later'] })
      expect(ran).toEqual(['later:1'])
    })

    it('pause and resume are idempotent', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.pauseQueue('default')
      await h.queue.pauseQueue('default')
      await h.queue.enqueue(work, { n: 1 })
      await h.queue.resumeQueue('default')
      await h.queue.resumeQueue('default')
      await h.queue.drain()
      expect(ran).toEqual(['default:1'])
    })

    it('a started worker stops claiming from a paused queue and picks up again on resume', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.pauseQueue('default')
      const r = await h.queue.enqueue(work, { n: 1 })
      await h.queue.start()
      for (let i = 0; i < 3; i++) {
        h.clock.advance(1000)
        await settle()
      }
      expect(ran).toEqual([])
      await h.queue.resumeQueue('default')
      await waitWhileTicking(h, () => ran.length === 1)
      await waitForState(h, r.id, 'succeeded')
    })

    it('rejects an invalid queue name', async () => {
      const h = await open()
      await expectError(() => h.queue.pauseQueue('bad name'), 'INVALID_ARGUMENT', 'queue')
      await expectError(() => h.queue.resumeQueue(''), 'INVALID_ARGUMENT', 'queue')
    })
  })
}
