import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { JobContext } from '../../../src/core/ports/queue.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, useHarness } from '../helpers.js'

const task = defineJob<{ o: string }>({ kind: 'task', maxAttempts: 3 })

/** performJob: one attempt of a handler, as a worker would run it, without storing a job. */
export default function performJobCases(factory: HarnessFactory): void {
  describe('performJob', () => {
    const open = useHarness(factory)

    async function perform(o: string, options: { attempt?: number; state?: { s: number } } = {}) {
      const h = await open({ random: () => 0.5 })
      let context: JobContext | undefined
      h.queue.register(task, (payload, ctx) => {
        context = ctx
        if (payload.o === 'throw') throw new Error('boom')
        if (payload.o === 'fail') return ctx.fail('bad')
        if (payload.o === 'cancel') return ctx.cancel('stop')
        if (payload.o === 'snooze') return ctx.snooze(5000)
        return { echoed: payload.o }
      })
      const outcome = await h.queue.performJob(task, { o }, options)
      return { h, outcome, context: context! }
    }

    it('reports success with the handler result', async () => {
      const { outcome } = await perform('ok')
      expect(outcome).toEqual({ outcome: 'succeeded', result: { echoed: 'ok' } })
    })

    it('reports a retry with the error and the backoff time', async () => {
      const { outcome } = await perform('throw')
      expect(outcome).toMatchObject({ outcome: 'retry', runAt: T0 + 1000 })
      expect((outcome as { error: Error }).error.message).toBe('boom')
    })

    it('reports failed when the attempt is the last one', async () => {
      const { outcome } = await perform('throw', { attempt: 3 })
      expect(outcome.outcome).toBe('failed')
    })

    it('reports the backoff of a later attempt', async () => {
      const { outcome } = await perform('throw', { attempt: 2 })
      expect(outcome).toMatchObject({ outcome: 'retry', runAt: T0 + 2000 })
    })

    it('reports ctx.fail as failed', async () => {
      const { outcome } = await perform('fail')
      expect(outcome.outcome).toBe('failed')
    })

    it('reports ctx.cancel with its reason', async () => {
      const { outcome } = await perform('cancel')
      expect(outcome).toEqual({ outcome: 'cancelled', reason: 'stop' })
    })

    it('reports ctx.snooze with the new run time', async () => {
      const { outcome } = await perform('snooze')
      expect(outcome).toEqual({ outcome: 'snoozed', runAt: T0 + 5000 })
    })

    it('hands the handler a full context', async () => {
      const { context } = await perform('ok', { attempt: 2, state: { s: 1 } })
      expect(context.attempt).toBe(2)
      expect(context.state).toEqual({ s: 1 })
      expect(context.signal.aborted).toBe(false)
      expect(context.schedule).toBeNull()
      expect(context.job).toMatchObject({
        kind: 'task',
        payload: { o: 'ok' },
        maxAttempts: 3,
        state: 'running',
      })
      expect(typeof context.log.info).toBe('function')
    })

    it('stores nothing', async () => {
      const { h } = await perform('throw')
      expect(await h.queue.listJobs()).toEqual([])
      for (const s of await h.queue.stats()) expect(Object.values(s.counts).every((n) => n === 0)).toBe(true)
    })

    it('rejects a kind without a handler with UNKNOWN_JOB_KIND', async () => {
      const h = await open()
      await expectError(
        () => h.queue.performJob(defineJob({ kind: 'nobody' }), {}),
        'UNKNOWN_JOB_KIND',
        '"nobody"',
      )
    })

    it('rejects invalid options and an attempt beyond maxAttempts', async () => {
      const h = await open()
      h.queue.register(task, () => undefined)
      await expectError(
        () => h.queue.performJob(task, { o: 'x' }, { priority: 0.5 }),
        'INVALID_OPTIONS',
        'priority',
      )
      await expectError(
        () => h.queue.performJob(task, { o: 'x' }, { attempt: 4 }),
        'INVALID_ARGUMENT',
        'attempt',
      )
    })
  })
}
