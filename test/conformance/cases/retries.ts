import { describe, expect, it } from 'vitest'
import { defineJob, type JobDefinition } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { job, useHarness } from '../helpers.js'

const flaky = defineJob<{ failures: number }>({ kind: 'flaky' })

/** Registers `def` so that it throws `Error('fail N')` on its first `failures` attempts. */
function failTimes(h: Harness, def: JobDefinition<{ failures: number }>): number[] {
  const attempts: number[] = []
  h.queue.register(def, ({ failures }, ctx) => {
    attempts.push(ctx.attempt)
    if (ctx.attempt <= failures) throw new Error(`fail ${ctx.attempt}`)
  })
  return attempts
}

/**
 * Runs a job that keeps failing and returns the retry delays it got: after each failed attempt, the
 * job's run-at minus the time it failed. The clock is moved exactly to each run-at before draining.
 */
async function retryDelays(h: Harness, id: string, attempts: number): Promise<number[]> {
  const delays: number[] = []
  for (let i = 0; i < attempts; i++) {
    const failedAt = h.clock.now()
    await h.queue.drain()
    const record = await job(h, id)
    expect(record.state).toBe('retryable')
    delays.push(record.runAt - failedAt)
    h.clock.set(record.runAt)
  }
  return delays
}

/** Retries with exact backoff times under the manual clock. */
export default function retryCases(factory: HarnessFactory): void {
  describe('retries and backoff', () => {
    const open = useHarness(factory)

    it('a throwing handler makes the job retryable with the error recorded', async () => {
      const h = await open({ random: () => 0.5 })
      failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 1 })
      expect(await h.queue.drain()).toMatchObject({ retried: 1, total: 1 })
      const record = await job(h, r.id)
      expect(record).toMatchObject({ state: 'retryable', attempt: 1, runAt: T0 + 1000, finishedAt: null })
      expect(record.errors).toEqual([
        expect.objectContaining({ attempt: 1, at: T0, name: 'Error', message: 'fail 1' }),
      ])
      expect(record.errors[0]?.stack).toContain('fail 1')
    })

    it('does not run the retry before its backoff has passed, and runs it after', async () => {
      const h = await open({ random: () => 0.5 })
      const attempts = failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 1 })
      await h.queue.drain()
      h.clock.advance(999)
      expect((await h.queue.drain()).total).toBe(0)
      h.clock.advance(1)
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1, total: 1 })
      expect(attempts).toEqual([1, 2])
      expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', attempt: 2, finishedAt: T0 + 1000 })
    })

    it('the default policy doubles from 1 s (jitter neutral at random = 0.5)', async () => {
      const h = await open({ random: () => 0.5 })
      failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 100 })
      expect(await retryDelays(h, r.id, 6)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000])
    })

    it('the default policy is capped at one hour', async () => {
      const h = await open({ random: () => 0.5 })
      failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 100 })
      const delays = await retryDelays(h, r.id, 14)
      expect(delays.slice(11)).toEqual([2_048_000, 3_600_000, 3_600_000])
    })

    it('jitter spreads the delay by up to ±10% by default', async () => {
      const low = await open({ random: () => 0 })
      failTimes(low, flaky)
      const a = await low.queue.enqueue(flaky, { failures: 100 })
      expect(await retryDelays(low, a.id, 2)).toEqual([900, 1800])
      const high = await open({ random: () => 0.999_999 })
      failTimes(high, flaky)
      const b = await high.queue.enqueue(flaky, { failures: 100 })
      expect(await retryDelays(high, b.id, 2)).toEqual([1100, 2200])
    })

    it('a queue-wide backoff applies to jobs that set none', async () => {
      const h = await open({ backoff: { baseMs: 100, factor: 3, maxMs: 1000, jitter: 0 }, random: () => 0 })
      failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 100 })
      expect(await retryDelays(h, r.id, 4)).toEqual([100, 300, 900, 1000])
    })

    it('a per-definition backoff overrides the queue default', async () => {
      const h = await open({ backoff: { baseMs: 100, jitter: 0 }, random: () => 0.5 })
      const def = defineJob<{ failures: number }>({ kind: 'def-backoff', backoff: { baseMs: 50, factor: 1 } })
      failTimes(h, def)
      const r = await h.queue.enqueue(def, { failures: 100 })
      expect(await retryDelays(h, r.id, 3)).toEqual([50, 50, 50])
    })

    it('a per-enqueue backoff overrides the definition', async () => {
      const h = await open({ random: () => 0.5 })
      const def = defineJob<{ failures: number }>({ kind: 'def-backoff', backoff: { baseMs: 50, factor: 1 } })
      failTimes(h, def)
      const r = await h.queue.enqueue(
        def,
        { failures: 100 },
        { backoff: { baseMs: 10_000, factor: 10, maxMs: 500_000 } },
      )
      expect(await retryDelays(h, r.id, 4)).toEqual([10_000, 100_000, 500_000, 500_000])
      expect((await job(h, r.id)).backoff).toMatchObject({ baseMs: 10_000, factor: 10, maxMs: 500_000 })
    })

    it('a custom backoff function gets the attempt and the error', async () => {
      const h = await open()
      const seen: [number, string][] = []
      const def = defineJob<{ failures: number }>({
        kind: 'custom-backoff',
        backoff: (attempt, error) => {
          seen.push([attempt, (error as Error).message])
          return attempt * 7000
        },
      })
      failTimes(h, def)
      const r = await h.queue.enqueue(def, { failures: 100 })
      expect(await retryDelays(h, r.id, 3)).toEqual([7000, 14_000, 21_000])
      expect(seen).toEqual([
        [1, 'fail 1'],
        [2, 'fail 2'],
        [3, 'fail 3'],
      ])
    })

    it('a custom backoff that returns an invalid delay falls back to the default policy', async () => {
      const h = await open({ random: () => 0.5 })
      const def = defineJob<{ failures: number }>({ kind: 'broken-backoff', backoff: () => Number.NaN })
      failTimes(h, def)
      const r = await h.queue.enqueue(def, { failures: 100 })
      expect(await retryDelays(h, r.id, 2)).toEqual([1000, 2000])
    })

    it('a custom backoff that throws falls back to the default policy', async () => {
      const h = await open({ random: () => 0.5 })
      const def = defineJob<{ failures: number }>({
        kind: 'throwing-backoff',
        backoff: () => {
          throw new Error('oops')
        },
      })
      failTimes(h, def)
      const r = await h.queue.enqueue(def, { failures: 100 })
      expect(await retryDelays(h, r.id, 1)).toEqual([1000])
    })

    it('measures the backoff from when the attempt failed, not from when it was due', async () => {
      const h = await open({ random: () => 0.5 })
      failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 100 })
      await h.queue.drain()
      h.clock.advance(60_000)
      await h.queue.drain()
      expect((await job(h, r.id)).runAt).toBe(T0 + 60_000 + 2000)
    })

    it('records a thrown non-Error value readably', async () => {
      const h = await open({ random: () => 0.5 })
      const def = defineJob({ kind: 'throws-string' })
      h.queue.register(def, () => {
        throw 'plain string'
      })
      const r = await h.queue.enqueue(def, {})
      await h.queue.drain()
      expect((await job(h, r.id)).errors[0]).toMatchObject({ attempt: 1, message: 'plain string' })
    })

    it('records the class name of a custom error', async () => {
      const h = await open({ random: () => 0.5 })
      class PaymentDeclined extends Error {
        override name = 'PaymentDeclined'
      }
      const def = defineJob({ kind: 'pay' })
      h.queue.register(def, async () => {
        throw new PaymentDeclined('card declined')
      })
      const r = await h.queue.enqueue(def, {})
      await h.queue.drain()
      expect((await job(h, r.id)).errors[0]).toMatchObject({
        name: 'PaymentDeclined',
        message: 'card declined',
      })
    })

    it('a retried job that then succeeds keeps the earlier errors', async () => {
      const h = await open({ random: () => 0.5 })
      failTimes(h, flaky)
      const r = await h.queue.enqueue(flaky, { failures: 2 })
      await h.queue.drain()
      h.clock.advance(1000)
      await h.queue.drain()
      h.clock.advance(2000)
      await h.queue.drain()
      const record = await job(h, r.id)
      expect(record).toMatchObject({ state: 'succeeded', attempt: 3, finishedAt: T0 + 3000 })
      expect(record.errors.map((e) => [e.attempt, e.at, e.message])).toEqual([
        [1, T0, 'fail 1'],
        [2, T0 + 1000, 'fail 2'],
      ])
    })

    it('drain with withScheduled runs retries at once until the job is done', async () => {
      const h = await open({ random: () => 0.5 })
      const attempts = failTimes(h, flaky)
      await h.queue.enqueue(flaky, { failures: 2 })
      expect(await h.queue.drain({ withScheduled: true })).toMatchObject({
        retried: 2,
        succeeded: 1,
        total: 3,
      })
      expect(attempts).toEqual([1, 2, 3])
    })
  })
}
