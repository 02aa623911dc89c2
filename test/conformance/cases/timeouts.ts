import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { gate, job, settle, untilAborted, useHarness, waitForState } from '../helpers.js'

const slow = defineJob<{ n: number }>({ kind: 'slow', timeoutMs: 5000 })

/** Timeouts: the handler's signal aborts, and the attempt counts as failed with a JobTimeoutError. */
export default function timeoutCases(factory: HarnessFactory): void {
  describe('timeouts', () => {
    const open = useHarness(factory)

    it('aborts the signal of a handler that runs past its timeout, and not before', async () => {
      const h = await open({ random: () => 0.5 })
      let signal: AbortSignal | undefined
      h.queue.register(slow, (_p, ctx) => {
        signal = ctx.signal
        return untilAborted(ctx.signal)
      })
      const r = await h.queue.enqueue(slow, { n: 1 })
      const drained = h.queue.drain()
      await waitFor(() => signal)
      h.clock.advance(4999)
      expect(signal!.aborted).toBe(false)
      h.clock.advance(1)
      expect(signal!.aborted).toBe(true)
      expect(await drained).toMatchObject({ retried: 1, total: 1 })
      expect((signal!.reason as { code?: string }).code).toBe('JOB_TIMEOUT')
      const record = await job(h, r.id)
      expect(record).toMatchObject({ state: 'retryable', attempt: 1, runAt: T0 + 5000 + 1000 })
      expect(record.errors).toEqual([
        expect.objectContaining({ attempt: 1, at: T0 + 5000, name: 'JobTimeoutError' }),
      ])
      expect(record.errors[0]?.message).toContain('5000')
    })

    it('counts a timed-out attempt even when the handler ignores its signal', async () => {
      const h = await open({ random: () => 0.5 })
      const hold = gate()
      let started = false
      h.queue.register(slow, async () => {
        started = true
        await hold.wait()
        return 'late'
      })
      const r = await h.queue.enqueue(slow, { n: 1 })
      const drained = h.queue.drain()
      await waitFor(() => started)
      h.clock.advance(5000)
      expect(await drained).toMatchObject({ retried: 1, succeeded: 0 })
      hold.open()
      await settle()
      const record = await job(h, r.id)
      expect(record.state).toBe('retryable')
      expect(record.errors[0]?.name).toBe('JobTimeoutError')
    })

    it('a timeout on the last attempt fails the job', async () => {
      const h = await open()
      let started = false
      h.queue.register(slow, (_p, ctx) => {
        started = true
        return untilAborted(ctx.signal)
      })
      const r = await h.queue.enqueue(slow, { n: 1 }, { maxAttempts: 1 })
      const drained = h.queue.drain()
      await waitFor(() => started)
      h.clock.advance(5000)
      expect(await drained).toMatchObject({ failed: 1 })
      expect(await job(h, r.id)).toMatchObject({ state: 'failed', finishedAt: T0 + 5000 })
    })

    it('the enqueue option overrides the definition timeout', async () => {
      const h = await open()
      let signal: AbortSignal | undefined
      h.queue.register(slow, (_p, ctx) => {
        signal = ctx.signal
        return untilAborted(ctx.signal)
      })
      await h.queue.enqueue(slow, { n: 1 }, { timeoutMs: 200 })
      const drained = h.queue.drain()
      await waitFor(() => signal)
      h.clock.advance(200)
      expect(signal!.aborted).toBe(true)
      await drained
    })

    it('a timeout of 0 never aborts', async () => {
      const h = await open()
      const hold = gate()
      let signal: AbortSignal | undefined
      const def = defineJob({ kind: 'patient' })
      h.queue.register(def, async (_p, ctx) => {
        signal = ctx.signal
        await hold.wait()
      })
      await h.queue.enqueue(def, {}, { timeoutMs: 0 })
      const drained = h.queue.drain()
      await waitFor(() => signal)
      h.clock.advance(7 * 24 * 3600_000)
      expect(signal!.aborted).toBe(false)
      hold.open()
      expect(await drained).toMatchObject({ succeeded: 1 })
    })

    it('a handler that finishes within its timeout succeeds and is not aborted later', async () => {
      const h = await open()
      let signal: AbortSignal | undefined
      h.queue.register(slow, (_p, ctx) => {
        signal = ctx.signal
        return 'fast'
      })
      const r = await h.queue.enqueue(slow, { n: 1 })
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1 })
      h.clock.advance(60_000)
      expect(signal!.aborted).toBe(false)
      expect((await job(h, r.id)).state).toBe('succeeded')
    })

    it('a timed-out job runs again after its backoff and can succeed', async () => {
      const h = await open({ random: () => 0.5 })
      const attempts: number[] = []
      h.queue.register(slow, (_p, ctx) => {
        attempts.push(ctx.attempt)
        return ctx.attempt === 1 ? untilAborted(ctx.signal) : 'ok'
      })
      const r = await h.queue.enqueue(slow, { n: 1 })
      const drained = h.queue.drain()
      await waitFor(() => attempts.length === 1)
      h.clock.advance(5000)
      await drained
      h.clock.advance(1000)
      await h.queue.drain()
      expect(attempts).toEqual([1, 2])
      expect((await job(h, r.id)).state).toBe('succeeded')
    })

    it('a started worker aborts a job at its timeout and records the failed attempt', async () => {
      const h = await open({ random: () => 0.5 })
      let signal: AbortSignal | undefined
      h.queue.register(slow, (_p, ctx) => {
        signal = ctx.signal
        return untilAborted(ctx.signal)
      })
      const r = await h.queue.enqueue(slow, { n: 1 }, { maxAttempts: 1 })
      await h.queue.start()
      await waitFor(() => signal)
      h.clock.advance(5000)
      const record = await waitForState(h, r.id, 'failed')
      expect(record.errors).toEqual([expect.objectContaining({ name: 'JobTimeoutError', attempt: 1 })])
    })
  })
}
