import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { JobNotFoundError, JobNotWaitingError } from '../../../src/core/domain/errors.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, job, settle, useHarness, waitForState, wakeUpsReady } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong arguments through the typed API.
type Any = any

const task = defineJob<{ n: number; fail?: boolean }>({ kind: 'task' })
const other = defineJob<{ n: number }>({ kind: 'other-task' })
const mail = defineJob({
  kind: 'mail',
  schema: z.object({ to: z.string().email(), n: z.number().default(0) }),
})

function record(h: Harness): number[] {
  const ran: number[] = []
  h.queue.register(task, ({ n, fail }, ctx) => {
    ran.push(n)
    if (fail && ctx.attempt === 1) throw new Error(`fail ${n}`)
  })
  return ran
}

/** updateJob: changing the run time, priority or payload of a waiting job. */
export default function updateJobCases(factory: HarnessFactory): void {
  describe('updateJob', () => {
    const open = useHarness(factory)

    describe('validation', () => {
      it('rejects a bad id, patch or options with INVALID_ARGUMENT and writes nothing', async () => {
        const h = await open()
        record(h)
        const r = await h.queue.enqueue(task, { n: 1 })
        const before = await job(h, r.id)
        const q = h.queue
        await expectError(() => q.updateJob('abc', { priority: 1 }), 'INVALID_ARGUMENT', 'job id')
        await expectError(() => q.updateJob(42 as Any, { priority: 1 }), 'INVALID_ARGUMENT', 'job id')
        await expectError(() => q.updateJob(r.id, null as Any), 'INVALID_ARGUMENT', 'patch')
        await expectError(() => q.updateJob(r.id, {}), 'INVALID_ARGUMENT', 'at least one')
        await expectError(() => q.updateJob(r.id, { runAt: undefined }), 'INVALID_ARGUMENT', 'at least one')
        await expectError(() => q.updateJob(r.id, { queue: 'x' } as Any), 'INVALID_ARGUMENT', '"queue"')
        await expectError(() => q.updateJob(r.id, { runAt: new Date('nope') }), 'INVALID_ARGUMENT', 'runAt')
        await expectError(() => q.updateJob(r.id, { runAt: Number.NaN }), 'INVALID_ARGUMENT', 'runAt')
        await expectError(
          () => q.updateJob(r.id, { runAt: '2030-01-01' as Any }),
          'INVALID_ARGUMENT',
          'runAt',
        )
        await expectError(() => q.updateJob(r.id, { priority: 40_000 }), 'INVALID_ARGUMENT', 'priority')
        await expectError(() => q.updateJob(r.id, { priority: 1.5 }), 'INVALID_ARGUMENT', 'priority')
        await expectError(
          () => q.updateJob(r.id, { priority: 1 }, { kind: 'task' } as Any),
          'INVALID_ARGUMENT',
          '"kind"',
        )
        await expectError(
          () => q.updateJob(r.id, { payload: { n: 2 } }, { job: 'task' as Any }),
          'INVALID_ARGUMENT',
          'defineJob',
        )
        expect(await job(h, r.id)).toEqual(before)
      })

      it('rejects a payload that is not JSON with INVALID_PAYLOAD and writes nothing', async () => {
        const h = await open()
        record(h)
        const r = await h.queue.enqueue(task, { n: 1 })
        const before = await job(h, r.id)
        await expectError(
          () => h.queue.updateJob(r.id, { payload: { n: 2, at: new Date(T0) }, priority: 3 }),
          'INVALID_PAYLOAD',
          'at',
        )
        await expectError(
          () => h.queue.updateJob(r.id, { payload: { n: 10n } as Any }),
          'INVALID_PAYLOAD',
          'bigint',
        )
        expect(await job(h, r.id)).toEqual(before)
      })

      it('throws JobNotFoundError for an id that does not exist', async () => {
        const h = await open()
        record(h)
        const error = await expectError(
          () => h.queue.updateJob('999999', { priority: 1 }),
          'JOB_NOT_FOUND',
          '"999999"',
        )
        expect(error).toBeInstanceOf(JobNotFoundError)
        expect((error as JobNotFoundError).jobId).toBe('999999')
        await expectError(() => h.queue.updateJob('999999', { payload: { n: 1 } }), 'JOB_NOT_FOUND')
      })

      it('reads an id with leading zeros as the same job on every store', async () => {
        const h = await open()
        record(h)
        const r = await h.queue.enqueue(task, { n: 1 })
        expect(await h.queue.updateJob(`00${r.id}`, { priority: 4 })).toMatchObject({ id: r.id, priority: 4 })
      })
    })

    describe('run time and priority', () => {
      it('moving a waiting job later makes it scheduled; it runs only once due', async () => {
        const h = await open()
        const ran = record(h)
        const r = await h.queue.enqueue(task, { n: 1 })
        const updated = await h.queue.updateJob(r.id, { runAt: T0 + 60_000 })
        expect(updated).toMatchObject({ id: r.id, state: 'scheduled', runAt: T0 + 60_000, attempt: 0 })
        expect(await job(h, r.id)).toEqual(updated)
        expect((await h.queue.drain()).total).toBe(0)
        h.clock.advance(59_999)
        expect((await h.queue.drain()).total).toBe(0)
        h.clock.advance(1)
        expect(await h.queue.drain()).toMatchObject({ succeeded: 1 })
        expect(ran).toEqual([1])
        expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', attemptedAt: T0 + 60_000 })
      })

      it('moving a scheduled job to now (a Date) or the past makes it available at once', async () => {
        const h = await open()
        const ran = record(h)
        const a = await h.queue.enqueue(task, { n: 1 }, { delayMs: 3_600_000 })
        const b = await h.queue.enqueue(task, { n: 2 }, { delayMs: 3_600_000 })
        h.clock.advance(1000)
        expect(await h.queue.updateJob(a.id, { runAt: new Date(T0 + 1000) })).toMatchObject({
          state: 'available',
          runAt: T0 + 1000,
        })
        expect(await h.queue.updateJob(b.id, { runAt: T0 - 5000 })).toMatchObject({
          state: 'available',
          runAt: T0 - 5000,
        })
        await h.queue.drain()
        expect(ran).toEqual([2, 1])
      })

      it('moving a scheduled job to a nearer future time keeps it scheduled and runs it then', async () => {
        const h = await open()
        const ran = record(h)
        const r = await h.queue.enqueue(task, { n: 1 }, { delayMs: 3_600_000 })
        expect(await h.queue.updateJob(r.id, { runAt: T0 + 1000 })).toMatchObject({
          state: 'scheduled',
          runAt: T0 + 1000,
        })
        h.clock.advance(999)
        await h.queue.drain()
        expect(ran).toEqual([])
        h.clock.advance(1)
        await h.queue.drain()
        expect(ran).toEqual([1])
      })

      it('changes the order of due jobs by priority and by run time', async () => {
        const h = await open()
        const ran = record(h)
        const a = await h.queue.enqueue(task, { n: 1 })
        await h.queue.enqueue(task, { n: 2 })
        const c = await h.queue.enqueue(task, { n: 3 })
        expect(await h.queue.updateJob(c.id, { priority: -5 })).toMatchObject({
          priority: -5,
          state: 'available',
          runAt: T0,
        })
        await h.queue.updateJob(a.id, { priority: 5 })
        await h.queue.drain()
        expect(ran).toEqual([3, 2, 1])

        ran.length = 0
        const d = await h.queue.enqueue(task, { n: 4 }, { delayMs: 1000 })
        const e = await h.queue.enqueue(task, { n: 5 }, { delayMs: 2000 })
        await h.queue.updateJob(e.id, { runAt: T0 + 500 })
        await h.queue.updateJob(d.id, { runAt: T0 + 1500 })
        h.clock.advance(2000)
        await h.queue.drain()
        expect(ran).toEqual([5, 4])
      })

      it('a retrying job stays retryable with its attempts and errors, and runs at the new time', async () => {
        const h = await open({ random: () => 0.5 })
        const ran = record(h)
        const r = await h.queue.enqueue(task, { n: 1, fail: true })
        await h.queue.drain()
        const failed = await job(h, r.id)
        expect(failed.state).toBe('retryable')
        expect(failed.runAt).toBeGreaterThan(T0)
        const updated = await h.queue.updateJob(r.id, { runAt: T0 })
        expect(updated).toMatchObject({ state: 'retryable', runAt: T0, attempt: 1 })
        expect(updated.errors).toEqual(failed.errors)
        const later = await h.queue.updateJob(r.id, { runAt: T0 + 3_600_000 })
        expect(later).toMatchObject({ state: 'retryable', runAt: T0 + 3_600_000 })
        await h.queue.updateJob(r.id, { runAt: T0 })
        await h.queue.drain()
        expect(ran).toEqual([1, 1])
        expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', attempt: 2 })
      })

      it('keeps the fields it does not change: state, attempt, keys, dependencies, metadata', async () => {
        const h = await open()
        record(h)
        const dep = await h.queue.enqueue(other, { n: 0 })
        const r = await h.queue.enqueue(
          task,
          { n: 1 },
          {
            groupKey: 'g',
            uniqueKey: 'u',
            dependsOn: dep.id,
            metadata: { m: 1 },
            tags: ['t'],
            maxAttempts: 3,
          },
        )
        const before = await job(h, r.id)
        const updated = await h.queue.updateJob(r.id, { priority: 7 })
        expect(updated).toEqual({ ...before, priority: 7 })
        expect(await job(h, r.id)).toEqual(updated)
        const dup = await h.queue.enqueue(task, { n: 2 }, { uniqueKey: 'u' })
        expect(dup).toMatchObject({ duplicate: true, id: r.id })
      })

      it('a grouped job moved earlier still waits for the group jobs before it', async () => {
        const h = await open()
        const ran = record(h)
        await h.queue.enqueue(task, { n: 1 }, { groupKey: 'g', delayMs: 1000 })
        const second = await h.queue.enqueue(task, { n: 2 }, { groupKey: 'g', delayMs: 1000 })
        await h.queue.updateJob(second.id, { runAt: T0 })
        await h.queue.drain()
        expect(ran).toEqual([])
        h.clock.advance(1000)
        await h.queue.drain({ recursive: true })
        expect(ran).toEqual([1, 2])
      })

      it('a started worker picks up a job moved to now without waiting for its poll interval', async () => {
        const h = await open({ pollIntervalMs: 3_600_000 })
        const ran = record(h)
        const r = await h.queue.enqueue(task, { n: 1 }, { delayMs: 3_600_000 })
        await h.queue.start()
        await wakeUpsReady(h)
        await settle()
        expect(ran).toEqual([])
        await h.queue.updateJob(r.id, { runAt: h.clock.now() })
        // The clock does not move: only the wake-up of the update can start the job.
        await waitFor(() => ran.length === 1, { message: 'the moved job to run' })
        await waitForState(h, r.id, 'succeeded')
        expect(h.clock.now()).toBe(T0)
      })
    })

    describe('payload', () => {
      it('the handler sees the new payload; the record returned is the stored one', async () => {
        const h = await open()
        const seen: unknown[] = []
        h.queue.register(task, (payload) => {
          seen.push(payload)
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        const updated = await h.queue.updateJob(r.id, { payload: { n: 2, fail: false } })
        expect(updated).toMatchObject({ state: 'available', payload: { n: 2, fail: false } })
        expect((await job(h, r.id)).payload).toEqual({ n: 2, fail: false })
        await h.queue.drain()
        expect(seen).toEqual([{ n: 2, fail: false }])
      })

      it('validates with the registered definition and stores the schema output', async () => {
        const h = await open()
        const seen: unknown[] = []
        h.queue.register(mail, (payload) => {
          seen.push(payload)
        })
        const r = await h.queue.enqueue(mail, { to: 'a@b.co', n: 1 })
        const updated = await h.queue.updateJob(r.id, { payload: { to: 'c@d.co' } })
        expect(updated.payload).toEqual({ to: 'c@d.co', n: 0 })
        await h.queue.drain()
        expect(seen).toEqual([{ to: 'c@d.co', n: 0 }])
      })

      it('a payload the schema rejects leaves the job untouched', async () => {
        const h = await open()
        h.queue.register(mail, () => {})
        const r = await h.queue.enqueue(mail, { to: 'a@b.co', n: 1 }, { delayMs: 1000 })
        const before = await job(h, r.id)
        const error = await expectError(
          () => h.queue.updateJob(r.id, { payload: { to: 'not an email' }, runAt: T0, priority: 9 }),
          'INVALID_PAYLOAD',
          '"mail"',
          'to',
        )
        expect(error.name).toBe('InvalidPayloadError')
        expect(await job(h, r.id)).toEqual(before)
      })

      it('validates with options.job when the kind is not registered here', async () => {
        const h = await open()
        const r = await h.queue.enqueue(mail, { to: 'a@b.co', n: 1 })
        await expectError(
          () => h.queue.updateJob(r.id, { payload: { to: 'nope' } }, { job: mail }),
          'INVALID_PAYLOAD',
        )
        const updated = await h.queue.updateJob(r.id, { payload: { to: 'x@y.co' } }, { job: mail })
        expect(updated.payload).toEqual({ to: 'x@y.co', n: 0 })
      })

      it('without options.job or a registered kind, a payload change is refused with a hint', async () => {
        const h = await open()
        const r = await h.queue.enqueue(mail, { to: 'a@b.co', n: 1 })
        const before = await job(h, r.id)
        await expectError(
          () => h.queue.updateJob(r.id, { payload: { to: 'x@y.co' } }),
          'UNKNOWN_JOB_KIND',
          '"mail"',
          '{ job }',
        )
        expect(await job(h, r.id)).toEqual(before)
        // Run time and priority need no definition.
        expect(await h.queue.updateJob(r.id, { priority: 2 })).toMatchObject({ priority: 2 })
      })

      it('options.job of another kind is refused', async () => {
        const h = await open()
        record(h)
        const r = await h.queue.enqueue(task, { n: 1 })
        await expectError(
          () => h.queue.updateJob(r.id, { payload: { n: 2 } }, { job: other }),
          'INVALID_ARGUMENT',
          '"other-task"',
          '"task"',
        )
        expect((await job(h, r.id)).payload).toEqual({ n: 1 })
      })

      it('jobDefinition returns the registered definition of a kind, or undefined', async () => {
        const h = await open()
        record(h)
        expect(h.queue.jobDefinition('task')).toBe(task)
        expect(h.queue.jobDefinition('mail')).toBeUndefined()
        await expectError(() => h.queue.jobDefinition(42 as Any), 'INVALID_ARGUMENT', 'kind')
      })
    })

    describe('jobs that are not waiting', () => {
      it('a running job cannot be changed: JobNotWaitingError with its state', async () => {
        const h = await open()
        let caught: unknown
        h.queue.register(task, async (_p, ctx) => {
          try {
            await h.queue.updateJob(ctx.job.id, { priority: 3 })
          } catch (error) {
            caught = error
          }
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.drain()
        expect(caught).toBeInstanceOf(JobNotWaitingError)
        expect(caught).toMatchObject({ code: 'JOB_NOT_WAITING', jobId: r.id, state: 'running' })
        expect((await job(h, r.id)).priority).toBe(0)
      })

      it('finished jobs cannot be changed', async () => {
        const h = await open()
        record(h)
        const done = await h.queue.enqueue(task, { n: 1 })
        await h.queue.drain()
        const cancelled = await h.queue.enqueue(task, { n: 2 })
        await h.queue.cancelJobs({ ids: [cancelled.id] })
        const error = await expectError(
          () => h.queue.updateJob(done.id, { runAt: T0 }),
          'JOB_NOT_WAITING',
          'succeeded',
        )
        expect(error).toMatchObject({ jobId: done.id, state: 'succeeded' })
        await expectError(
          () => h.queue.updateJob(cancelled.id, { payload: { n: 3 } }),
          'JOB_NOT_WAITING',
          'cancelled',
        )
        expect((await job(h, cancelled.id)).payload).toEqual({ n: 2 })
      })
    })
  })
}
