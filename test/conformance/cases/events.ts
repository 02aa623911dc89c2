import { describe, expect, it } from 'vitest'
import type { QueueEventName, QueueEvents } from '../../../src/core/domain/events.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { gate, job, useHarness } from '../helpers.js'

const task = defineJob<{ outcome: 'ok' | 'throw' | 'fail' | 'cancel' | 'snooze' }>({ kind: 'task' })

const NAMES: QueueEventName[] = [
  'enqueued',
  'started',
  'succeeded',
  'failed',
  'retried',
  'discarded',
  'cancelled',
  'snoozed',
  'scheduled',
]

type Seen = { name: QueueEventName; event: QueueEvents[QueueEventName] }

function listen(h: Harness): Seen[] {
  const seen: Seen[] = []
  for (const name of NAMES) h.queue.on(name, (event) => seen.push({ name, event }))
  return seen
}

function register(h: Harness): void {
  h.queue.register(task, ({ outcome }, ctx) => {
    if (outcome === 'throw') throw new Error('boom')
    if (outcome === 'fail') return ctx.fail('bad')
    if (outcome === 'cancel') return ctx.cancel('stop')
    if (outcome === 'snooze') return ctx.snooze(5000)
    return 'result'
  })
}

/** The typed event stream and its payloads. */
export default function eventCases(factory: HarnessFactory): void {
  describe('events', () => {
    const open = useHarness(factory)

    it('a successful job emits enqueued, started, succeeded with the job', async () => {
      const h = await open()
      register(h)
      const seen = listen(h)
      const r = await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.drain()
      expect(seen.map((s) => s.name)).toEqual(['enqueued', 'started', 'succeeded'])
      for (const s of seen) expect((s.event as { job: { id: string } }).job.id).toBe(r.id)
      expect(seen[1]!.event).toMatchObject({ job: { state: 'running', attempt: 1 } })
      expect(seen[2]!.event).toMatchObject({ durationMs: 0 })
    })

    it('a failing attempt emits failed (willRetry) then retried with the retry time', async () => {
      const h = await open({ random: () => 0.5 })
      register(h)
      const r = await h.queue.enqueue(task, { outcome: 'throw' })
      const seen = listen(h)
      await h.queue.drain()
      expect(seen.map((s) => s.name)).toEqual(['started', 'failed', 'retried'])
      expect(seen[1]!.event).toMatchObject({
        job: { id: r.id },
        willRetry: true,
        error: { attempt: 1, message: 'boom', name: 'Error' },
      })
      expect(seen[2]!.event).toMatchObject({ job: { id: r.id }, runAt: T0 + 1000 })
    })

    it('the last failing attempt emits failed (no retry) then discarded', async () => {
      const h = await open()
      register(h)
      await h.queue.enqueue(task, { outcome: 'throw' }, { maxAttempts: 1 })
      const seen = listen(h)
      await h.queue.drain()
      expect(seen.map((s) => s.name)).toEqual(['started', 'failed', 'discarded'])
      expect(seen[1]!.event).toMatchObject({ willRetry: false })
      expect(seen[2]!.event).toMatchObject({ error: { message: 'boom' } })
    })

    it('ctx.fail emits discarded with the reason', async () => {
      const h = await open()
      register(h)
      await h.queue.enqueue(task, { outcome: 'fail' })
      const seen = listen(h)
      await h.queue.drain()
      expect(seen.map((s) => s.name)).toContain('discarded')
      expect(seen.find((s) => s.name === 'discarded')!.event).toMatchObject({ error: { message: 'bad' } })
      expect(seen.map((s) => s.name)).not.toContain('retried')
    })

    it('ctx.cancel emits cancelled with the reason', async () => {
      const h = await open()
      register(h)
      await h.queue.enqueue(task, { outcome: 'cancel' })
      const seen = listen(h)
      await h.queue.drain()
      expect(seen.map((s) => s.name)).toEqual(['started', 'cancelled'])
      expect((seen[1]!.event as QueueEvents['cancelled']).reason).toContain('stop')
    })

    it('ctx.snooze emits snoozed with the new run time', async () => {
      const h = await open()
      register(h)
      await h.queue.enqueue(task, { outcome: 'snooze' })
      const seen = listen(h)
      await h.queue.drain()
      expect(seen.map((s) => s.name)).toEqual(['started', 'snoozed'])
      expect(seen[1]!.event).toMatchObject({ runAt: T0 + 5000 })
    })

    it('a schedule tick emits scheduled with the schedule, tick and job', async () => {
      const h = await open()
      register(h)
      const seen = listen(h)
      await h.queue.schedule('@every 1 minute', task, { outcome: 'ok' }, { name: 'minutely' })
      h.clock.advance(60_000)
      await h.queue.drain()
      const scheduled = seen.find((s) => s.name === 'scheduled')?.event as
        | QueueEvents['scheduled']
        | undefined
      expect(scheduled).toMatchObject({
        tick: T0 + 60_000,
        schedule: { name: 'minutely' },
        job: { kind: 'task', scheduleTick: T0 + 60_000 },
      })
      expect(seen.filter((s) => s.name === 'scheduled')).toHaveLength(1)
    })

    it('register emits registered with the kind, its queue and whether it replaced a handler', async () => {
      const h = await open()
      const seen: QueueEvents['registered'][] = []
      h.queue.on('registered', (e) => seen.push(e))
      register(h)
      h.queue.register(defineJob({ kind: 'mail', queue: 'mail' }), () => undefined)
      h.queue.register(task, () => undefined, { replace: true })
      expect(seen).toEqual([
        { kind: 'task', queue: 'default', replaced: false },
        { kind: 'mail', queue: 'mail', replaced: false },
        { kind: 'task', queue: 'default', replaced: true },
      ])
    })

    it('a claim emits claimed once with the claimed jobs and the worker id, before they start', async () => {
      const h = await open()
      register(h)
      const order: string[] = []
      const claimed: QueueEvents['claimed'][] = []
      h.queue.on('claimed', (e) => {
        claimed.push(e)
        order.push('claimed')
      })
      h.queue.on('started', () => order.push('started'))
      const a = await h.queue.enqueue(task, { outcome: 'ok' })
      const b = await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.drain()
      expect(claimed).toHaveLength(1)
      expect(claimed[0]!.jobs.map((j) => [j.id, j.state, j.attempt])).toEqual([
        [a.id, 'running', 1],
        [b.id, 'running', 1],
      ])
      expect(claimed[0]!.workerId).toMatch(/:drain$/)
      expect(order).toEqual(['claimed', 'started', 'started'])
    })

    it('a started worker emits claimed with its worker id', async () => {
      const h = await open({ processId: 'p7' })
      register(h)
      const claimed: QueueEvents['claimed'][] = []
      h.queue.on('claimed', (e) => claimed.push(e))
      const r = await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.start()
      await waitFor(() => claimed.length > 0)
      expect(h.queue.processId).toMatch(/^p7-[0-9a-f]{6}$/)
      expect(claimed[0]).toMatchObject({ workerId: `${h.queue.processId}:default`, jobs: [{ id: r.id }] })
    })

    it('prune emits pruned once per pass with the count and the cut-off', async () => {
      const h = await open()
      register(h)
      const pruned: QueueEvents['pruned'][] = []
      h.queue.on('pruned', (e) => pruned.push(e))
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.enqueue(task, { outcome: 'fail' })
      await h.queue.drain()
      h.clock.advance(1000)
      expect(await h.queue.prune({ olderThanMs: 500, batchSize: 1 })).toBe(2)
      expect(pruned).toEqual([{ count: 2, finishedBefore: T0 + 500 }])
      expect(await h.queue.prune({ olderThanMs: 0 })).toBe(0)
      expect(pruned).toHaveLength(1)
    })

    it('the duration of an attempt follows the clock', async () => {
      const h = await open()
      const def = defineJob({ kind: 'timed' })
      h.queue.register(def, () => {
        h.clock.advance(1234)
      })
      let duration = -1
      h.queue.on('succeeded', (e) => {
        duration = e.durationMs
      })
      await h.queue.enqueue(def, {})
      await h.queue.drain()
      expect(duration).toBe(1234)
    })

    it('an unsubscribed listener hears nothing more', async () => {
      const h = await open()
      register(h)
      let count = 0
      const off = h.queue.on('enqueued', () => count++)
      await h.queue.enqueue(task, { outcome: 'ok' })
      off()
      await h.queue.enqueue(task, { outcome: 'ok' })
      expect(count).toBe(1)
    })

    it('a throwing listener does not break the queue and is reported as an error event', async () => {
      const h = await open()
      register(h)
      const errors: string[] = []
      h.queue.on('error', (e) => errors.push(e.during))
      h.queue.on('succeeded', () => {
        throw new Error('listener bug')
      })
      const r = await h.queue.enqueue(task, { outcome: 'ok' })
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1 })
      expect((await h.queue.getJob(r.id))?.state).toBe('succeeded')
      expect(errors.length).toBeGreaterThan(0)
    })

    it('events fire the same under a started worker', async () => {
      const h = await open()
      register(h)
      const seen = listen(h)
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.start()
      await waitFor(() => seen.some((s) => s.name === 'succeeded'))
      expect(seen.map((s) => s.name)).toEqual(['enqueued', 'started', 'succeeded'])
    })
    it('outcome events follow the write: a listener reading the job at its event finds the outcome stored', async () => {
      const h = await open({ queues: { default: { concurrency: 3 } } })
      register(h)
      const stored: Promise<string | undefined>[] = []
      const read = (id: string) => stored.push(h.queue.store.getJob({ id }).then((j) => j?.state))
      h.queue.on('succeeded', ({ job }) => read(job.id))
      h.queue.on('retried', ({ job }) => read(job.id))
      h.queue.on('discarded', ({ job }) => read(job.id))
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.enqueue(task, { outcome: 'throw' })
      await h.queue.enqueue(task, { outcome: 'fail' })
      await h.queue.start()
      await waitFor(() => stored.length === 4)
      expect((await Promise.all(stored)).sort()).toEqual(['failed', 'retryable', 'succeeded', 'succeeded'])
    })

    it('a completion the store skips emits no outcome event: a cancelled job whose handler then succeeds', async () => {
      const h = await open()
      const hold = gate()
      let started = false
      h.queue.register(task, async () => {
        started = true
        await hold.wait()
        return 'finished anyway'
      })
      const r = await h.queue.enqueue(task, { outcome: 'ok' })
      const seen = listen(h)
      await h.queue.start()
      await waitFor(() => started)
      await h.queue.cancelJobs({ ids: [r.id] })
      hold.open()
      // Shutdown resolves once the completer wrote (or skipped) everything it was given.
      await h.queue.shutdown()
      expect(seen.map((s) => s.name)).toEqual(['started', 'cancelled'])
      expect((await job(h, r.id)).state).toBe('cancelled')
    })
  })
}
