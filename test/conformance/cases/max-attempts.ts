import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { job, useHarness } from '../helpers.js'

const doomed = defineJob<{ tag: string }>({ kind: 'doomed', maxAttempts: 3 })

function alwaysFail(h: Harness): number[] {
  const attempts: number[] = []
  h.queue.register(doomed, ({ tag }, ctx) => {
    attempts.push(ctx.attempt)
    throw new Error(`${tag} attempt ${ctx.attempt}`)
  })
  return attempts
}

/** Runs every due attempt of a job until it reaches a final state, moving the clock to each retry. */
async function runToEnd(h: Harness, id: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await h.queue.drain()
    const record = await job(h, id)
    if (record.state !== 'retryable') return
    h.clock.set(record.runAt)
  }
}

/** Max attempts: the job ends `failed` with every attempt's error, in order. */
export default function maxAttemptsCases(factory: HarnessFactory): void {
  describe('max attempts', () => {
    const open = useHarness(factory)

    it('fails the job after maxAttempts attempts, with every error in order', async () => {
      const h = await open({ random: () => 0.5 })
      const attempts = alwaysFail(h)
      const r = await h.queue.enqueue(doomed, { tag: 'x' })
      await runToEnd(h, r.id)
      expect(attempts).toEqual([1, 2, 3])
      const record = await job(h, r.id)
      expect(record).toMatchObject({ state: 'failed', attempt: 3, maxAttempts: 3, finishedAt: T0 + 3000 })
      expect(record.errors.map((e) => [e.attempt, e.at, e.message])).toEqual([
        [1, T0, 'x attempt 1'],
        [2, T0 + 1000, 'x attempt 2'],
        [3, T0 + 3000, 'x attempt 3'],
      ])
    })

    it('never runs a failed job again', async () => {
      const h = await open({ random: () => 0.5 })
      const attempts = alwaysFail(h)
      const r = await h.queue.enqueue(doomed, { tag: 'x' })
      await runToEnd(h, r.id)
      h.clock.advance(24 * 3600_000)
      expect((await h.queue.drain({ withScheduled: true })).total).toBe(0)
      expect(attempts).toEqual([1, 2, 3])
    })

    it('maxAttempts 1 fails at the first error without retrying', async () => {
      const h = await open()
      const attempts = alwaysFail(h)
      const r = await h.queue.enqueue(doomed, { tag: 'once' }, { maxAttempts: 1 })
      expect(await h.queue.drain()).toMatchObject({ failed: 1, retried: 0, total: 1 })
      expect(attempts).toEqual([1])
      expect(await job(h, r.id)).toMatchObject({ state: 'failed', attempt: 1, finishedAt: T0 })
    })

    it('the enqueue option overrides the definition maxAttempts', async () => {
      const h = await open({ random: () => 0.5 })
      const attempts = alwaysFail(h)
      const r = await h.queue.enqueue(doomed, { tag: 'x' }, { maxAttempts: 5 })
      await runToEnd(h, r.id)
      expect(attempts).toEqual([1, 2, 3, 4, 5])
      expect((await job(h, r.id)).errors).toHaveLength(5)
    })

    it('the default is 25 attempts', async () => {
      const h = await open({ random: () => 0.5 })
      const def = defineJob({ kind: 'default-attempts' })
      let runs = 0
      h.queue.register(def, () => {
        runs++
        throw new Error('no')
      })
      const r = await h.queue.enqueue(def, {})
      await runToEnd(h, r.id)
      expect(runs).toBe(25)
      expect(await job(h, r.id)).toMatchObject({ state: 'failed', attempt: 25 })
    })

    it('drain reports the final attempt as failed and earlier ones as retried', async () => {
      const h = await open({ random: () => 0.5 })
      alwaysFail(h)
      await h.queue.enqueue(doomed, { tag: 'x' })
      expect(await h.queue.drain()).toMatchObject({ retried: 1, failed: 0 })
      h.clock.advance(1000)
      expect(await h.queue.drain()).toMatchObject({ retried: 1, failed: 0 })
      h.clock.advance(2000)
      expect(await h.queue.drain()).toMatchObject({ retried: 0, failed: 1, total: 1 })
    })

    it('each attempt receives the job as claimed, with its attempt number', async () => {
      const h = await open({ random: () => 0.5 })
      const seen: [number, number, string][] = []
      h.queue.register(doomed, (_payload, ctx) => {
        seen.push([ctx.attempt, ctx.job.attempt, ctx.job.state])
        throw new Error('no')
      })
      const r = await h.queue.enqueue(doomed, { tag: 'x' })
      await runToEnd(h, r.id)
      expect(seen).toEqual([
        [1, 1, 'running'],
        [2, 2, 'running'],
        [3, 3, 'running'],
      ])
    })
  })
}
