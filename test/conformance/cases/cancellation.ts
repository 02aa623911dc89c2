import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { HarnessFactory } from '../harness.js'
import { gate, job, settle, untilAborted, useHarness, waitForState, waitWhileTicking } from '../helpers.js'

const long = defineJob<{ n: number }>({ kind: 'long-running' })

/** Cancelling a running job: its handler's signal aborts and the job ends cancelled. */
export default function cancellationCases(factory: HarnessFactory): void {
  describe('cancelling running jobs', () => {
    const open = useHarness(factory)

    it('aborts the signal of a job running under a started worker, and the job stays cancelled', async () => {
      const h = await open()
      let signal: AbortSignal | undefined
      h.queue.register(long, (_p, ctx) => {
        signal = ctx.signal
        return untilAborted(ctx.signal)
      })
      const r = await h.queue.enqueue(long, { n: 1 })
      await h.queue.start()
      await waitFor(() => signal)
      expect(await h.queue.cancelJobs({ ids: [r.id] })).toBe(1)
      await waitFor(() => signal!.aborted)
      expect((signal!.reason as { code?: string }).code).toBe('JOB_CANCELLED')
      const record = await waitForState(h, r.id, 'cancelled')
      expect(record.finishedAt).not.toBeNull()
      await settle()
      expect((await job(h, r.id)).state).toBe('cancelled')
    })

    it('a cancelled job is not retried even if its handler throws on abort', async () => {
      const h = await open({ random: () => 0.5 })
      let runs = 0
      h.queue.register(long, async (_p, ctx) => {
        runs++
        await untilAborted(ctx.signal).catch(() => undefined)
        throw new Error('aborted, giving up')
      })
      const r = await h.queue.enqueue(long, { n: 1 })
      await h.queue.start()
      await waitFor(() => runs === 1)
      await h.queue.cancelJobs({ ids: [r.id] })
      await waitForState(h, r.id, 'cancelled')
      for (let i = 0; i < 5; i++) {
        h.clock.advance(60_000)
        await settle()
      }
      expect(runs).toBe(1)
      expect((await job(h, r.id)).state).toBe('cancelled')
    })

    it('a cancelled job whose handler ignores the signal and then succeeds stays cancelled', async () => {
      const h = await open()
      const hold = gate()
      let started = false
      h.queue.register(long, async () => {
        started = true
        await hold.wait()
        return 'finished anyway'
      })
      const r = await h.queue.enqueue(long, { n: 1 })
      await h.queue.start()
      await waitFor(() => started)
      await h.queue.cancelJobs({ ids: [r.id] })
      hold.open()
      await waitForState(h, r.id, 'cancelled')
      await settle()
      expect((await job(h, r.id)).state).toBe('cancelled')
    })

    it('cancels only the targeted running job; the others finish', async () => {
      const h = await open({ queues: { default: { concurrency: 2 } } })
      const hold = gate()
      const signals = new Map<number, AbortSignal>()
      h.queue.register(long, async ({ n }, ctx) => {
        signals.set(n, ctx.signal)
        await Promise.race([hold.wait(), untilAborted(ctx.signal)])
      })
      const a = await h.queue.enqueue(long, { n: 1 })
      const b = await h.queue.enqueue(long, { n: 2 })
      await h.queue.start()
      await waitFor(() => signals.size === 2)
      await h.queue.cancelJobs({ ids: [a.id] })
      await waitFor(() => signals.get(1)!.aborted)
      expect(signals.get(2)!.aborted).toBe(false)
      hold.open()
      await waitForState(h, b.id, 'succeeded')
      expect((await job(h, a.id)).state).toBe('cancelled')
    })

    it('emits a cancelled event for a running job cancelled by an operator', async () => {
      const h = await open()
      const seen: string[] = []
      h.queue.on('cancelled', (e) => seen.push(e.job.id))
      let started = false
      h.queue.register(long, (_p, ctx) => {
        started = true
        return untilAborted(ctx.signal)
      })
      const r = await h.queue.enqueue(long, { n: 1 })
      await h.queue.start()
      await waitFor(() => started)
      await h.queue.cancelJobs({ ids: [r.id] })
      await waitFor(() => seen.length > 0)
      expect(seen).toEqual([r.id])
    })

    it('a freed slot is used for the next job after a cancel', async () => {
      const h = await open({ queues: { default: { concurrency: 1 } } })
      const started: number[] = []
      h.queue.register(long, ({ n }, ctx) => {
        started.push(n)
        return n === 1 ? untilAborted(ctx.signal) : undefined
      })
      const a = await h.queue.enqueue(long, { n: 1 })
      const b = await h.queue.enqueue(long, { n: 2 })
      await h.queue.start()
      await waitFor(() => started.length === 1)
      await h.queue.cancelJobs({ ids: [a.id] })
      await waitWhileTicking(h, () => started.length === 2)
      await waitForState(h, b.id, 'succeeded')
    })

    it('aborts the signal of a job running inside drain', async () => {
      const h = await open()
      let signal: AbortSignal | undefined
      const hold = gate()
      h.queue.register(long, (_p, ctx) => {
        signal = ctx.signal
        return Promise.race([untilAborted(ctx.signal), hold.wait()])
      })
      const r = await h.queue.enqueue(long, { n: 1 })
      const drained = h.queue.drain()
      await waitFor(() => signal)
      await h.queue.cancelJobs({ ids: [r.id] })
      const aborted = await waitFor(() => signal!.aborted, { timeoutMs: 2000 }).catch(() => false)
      hold.open()
      await drained
      expect(aborted).toBe(true)
      expect((await job(h, r.id)).state).toBe('cancelled')
    })
  })
}
