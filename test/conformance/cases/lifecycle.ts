import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import {
  expectError,
  gate,
  job,
  settle,
  untilAborted,
  useHarness,
  waitForState,
  waitWhileTicking,
} from '../helpers.js'

const task = defineJob<{ n: number }>({ kind: 'task' })

/** Registering handlers, start and graceful shutdown. */
export default function lifecycleCases(factory: HarnessFactory): void {
  describe('lifecycle', () => {
    const open = useHarness(factory)

    describe('register', () => {
      it('refuses a second handler for a kind unless replace is set', async () => {
        const h = await open()
        const ran: string[] = []
        h.queue.register(task, () => {
          ran.push('first')
        })
        await expectError(() => h.queue.register(task, () => undefined), 'LIFECYCLE', 'replace')
        h.queue.register(
          task,
          () => {
            ran.push('second')
          },
          { replace: true },
        )
        await h.queue.enqueue(task, { n: 1 })
        await h.queue.drain()
        expect(ran).toEqual(['second'])
      })

      it('rejects a handler that is not a function and a job that is not a definition', async () => {
        const h = await open()
        await expectError(() => h.queue.register(task, 'run' as never), 'INVALID_ARGUMENT', 'handler')
        await expectError(
          () => h.queue.register({ kind: 'task' } as never, () => undefined),
          'INVALID_ARGUMENT',
          'defineJob',
        )
      })

      it('a handler registered after start picks up waiting jobs', async () => {
        const h = await open()
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        await settle()
        expect((await job(h, r.id)).state).toBe('available')
        h.queue.register(task, () => undefined)
        await waitWhileTicking(h, async () => (await h.queue.getJob(r.id))?.state === 'succeeded')
      })

      it('refuses, after start, a handler whose queue no started worker serves (it would never run)', async () => {
        const h = await open()
        h.queue.register(task, () => undefined)
        await h.queue.start()
        const late = defineJob({ kind: 'late', queue: 'latequeue' })
        await expectError(
          () => h.queue.register(late, () => undefined),
          'LIFECYCLE',
          '"late"',
          '"latequeue"',
          'before start()',
          'workers',
        )
        expect(h.queue.jobDefinition('late')).toBeUndefined()
      })

      it('after start, registers a handler for a queue a configured worker serves and runs its jobs', async () => {
        const h = await open({ queues: { default: {}, latequeue: {} } })
        await h.queue.start()
        const late = defineJob({ kind: 'late', queue: 'latequeue' })
        h.queue.register(late, () => undefined)
        const r = await h.queue.enqueue(late, {})
        await waitWhileTicking(h, async () => (await h.queue.getJob(r.id))?.state === 'succeeded')
      })
    })

    describe('start', () => {
      it('is idempotent: a second call returns the same promise', async () => {
        const h = await open()
        const first = h.queue.start()
        expect(h.queue.start()).toBe(first)
        await first
      })

      it('runs jobs enqueued before start', async () => {
        const h = await open({ processId: 'proc-1' })
        h.queue.register(task, () => undefined)
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        const done = await waitForState(h, r.id, 'succeeded')
        expect(done.attemptedBy).toContain('proc-1')
      })

      it('runs jobs enqueued after start', async () => {
        const h = await open()
        h.queue.register(task, () => undefined)
        await h.queue.start()
        const r = await h.queue.enqueue(task, { n: 1 })
        await waitWhileTicking(h, async () => (await h.queue.getJob(r.id))?.state === 'succeeded')
      })

      it('runs a retry once the clock passes its backoff', async () => {
        const h = await open({ random: () => 0.5 })
        const attempts: number[] = []
        h.queue.register(task, (_p, ctx) => {
          attempts.push(ctx.attempt)
          if (ctx.attempt === 1) throw new Error('once')
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        await waitForState(h, r.id, 'retryable')
        await waitWhileTicking(h, async () => (await h.queue.getJob(r.id))?.state === 'succeeded', 250)
        expect(attempts).toEqual([1, 2])
        expect((await job(h, r.id)).attemptedAt).toBeGreaterThanOrEqual(T0 + 1000)
      })
    })

    describe('shutdown', () => {
      it('is safe before start and returns the same promise when called twice', async () => {
        const h = await open()
        const first = h.queue.shutdown()
        expect(h.queue.shutdown()).toBe(first)
        await first
        await h.queue.shutdown()
      })

      it('after shutdown, start is refused with LIFECYCLE', async () => {
        const h = await open()
        await h.queue.start()
        await h.queue.shutdown({ graceMs: 0 })
        await expectError(() => h.queue.start(), 'LIFECYCLE')
      })

      it('lets running jobs finish within the grace period', async () => {
        const h = await open()
        const hold = gate()
        let signal: AbortSignal | undefined
        h.queue.register(task, async (_p, ctx) => {
          signal = ctx.signal
          await hold.wait()
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        await waitFor(() => signal)
        let finished = false
        const stopping = h.queue.shutdown({ graceMs: 10_000 }).then(() => {
          finished = true
        })
        await settle()
        expect(finished).toBe(false)
        hold.open()
        await stopping
        expect(signal!.aborted).toBe(false)
        expect((await job(h, r.id)).state).toBe('succeeded')
      })

      for (const via of ['workers', 'drain'] as const) {
        it(`${via}: aborts jobs still running after the grace period and returns them to available without counting the attempt`, async () => {
          const h = await open()
          let signal: AbortSignal | undefined
          h.queue.register(task, (_p, ctx) => {
            signal = ctx.signal
            return untilAborted(ctx.signal)
          })
          const r = await h.queue.enqueue(task, { n: 1 })
          const draining = via === 'drain' ? h.queue.drain() : null
          if (via === 'workers') await h.queue.start()
          await waitFor(() => signal)
          let finished = false
          const stopping = h.queue.shutdown({ graceMs: 5000 }).then(() => {
            finished = true
          })
          await settle()
          expect(signal!.aborted).toBe(false)
          await waitFor(() => {
            h.clock.advance(1000)
            return finished
          })
          await stopping
          expect(signal!.aborted).toBe(true)
          expect((signal!.reason as { code?: string }).code).toBe('SHUTDOWN')
          // A drain says it was stopped, and does not count the returned job's attempt.
          if (draining) expect(await draining).toMatchObject({ retried: 0, total: 0, stopped: true })
          expect(await job(h, r.id)).toMatchObject({
            state: 'available',
            attempt: 0,
            errors: [],
            finishedAt: null,
          })
        })
      }

      it('with graceMs 0, aborts running jobs at once and returns them (the clock need not move)', async () => {
        const h = await open()
        let signal: AbortSignal | undefined
        h.queue.register(task, (_p, ctx) => {
          signal = ctx.signal
          return untilAborted(ctx.signal)
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        await waitFor(() => signal)
        await h.queue.shutdown({ graceMs: 0 })
        expect((signal!.reason as { code?: string }).code).toBe('SHUTDOWN')
        expect(await job(h, r.id)).toMatchObject({ state: 'available', attempt: 0 })
      })

      it('returns a job whose handler ignores the abort after the grace period', async () => {
        const h = await open()
        const hold = gate()
        let started = false
        h.queue.register(task, async () => {
          started = true
          await hold.wait()
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        await waitFor(() => started)
        let finished = false
        const stopping = h.queue.shutdown({ graceMs: 1000 }).then(() => {
          finished = true
        })
        await waitFor(() => {
          h.clock.advance(500)
          return finished
        })
        await stopping
        hold.open()
        await settle()
        expect(await job(h, r.id)).toMatchObject({ state: 'available', attempt: 0 })
      })

      it('claims nothing once shutdown has begun', async () => {
        const h = await open({ queues: { default: { concurrency: 5 } } })
        const hold = gate()
        const started: number[] = []
        h.queue.register(task, async ({ n }) => {
          started.push(n)
          await hold.wait()
        })
        await h.queue.enqueue(task, { n: 1 })
        await h.queue.start()
        await waitFor(() => started.length === 1)
        const stopping = h.queue.shutdown({ graceMs: 60_000 })
        const late = await h.queue.enqueue(task, { n: 2 })
        for (let i = 0; i < 5; i++) {
          h.clock.advance(1000)
          await settle()
        }
        hold.open()
        await stopping
        expect(started).toEqual([1])
        expect((await job(h, late.id)).state).toBe('available')
      })

      it('waits for a drain: its running job finishes within the grace period, it starts no more, and it says it was stopped', async () => {
        const h = await open()
        const hold = gate()
        const started: number[] = []
        h.queue.register(task, async ({ n }) => {
          started.push(n)
          if (n === 1) await hold.wait()
        })
        const [first, second, third] = await h.queue.enqueueMany(
          [1, 2, 3].map((n) => ({ job: task, payload: { n } })),
        )
        const draining = h.queue.drain()
        await waitFor(() => started.length === 1)
        let finished = false
        const stopping = h.queue.shutdown({ graceMs: 10_000 }).then(() => {
          finished = true
        })
        await settle()
        expect(finished).toBe(false)
        hold.open()
        await stopping
        expect(await draining).toEqual({
          succeeded: 1,
          retried: 0,
          failed: 0,
          cancelled: 0,
          snoozed: 0,
          total: 1,
          stopped: true,
        })
        expect(started).toEqual([1])
        expect((await job(h, first!.id)).state).toBe('succeeded')
        for (const r of [second!, third!])
          expect(await job(h, r.id)).toMatchObject({ state: 'available', attempt: 0, errors: [] })
      })

      it('refuses a drain once shutdown has begun, with LIFECYCLE', async () => {
        const h = await open()
        const hold = gate()
        let started = false
        h.queue.register(task, async () => {
          started = true
          await hold.wait()
        })
        await h.queue.enqueue(task, { n: 1 })
        const draining = h.queue.drain()
        await waitFor(() => started)
        const stopping = h.queue.shutdown({ graceMs: 60_000 })
        await expectError(() => h.queue.drain(), 'LIFECYCLE', 'shut down')
        hold.open()
        await stopping
        await draining
      })

      it('leaves waiting jobs untouched', async () => {
        const h = await open()
        h.queue.register(task, () => undefined)
        const later = await h.queue.enqueue(task, { n: 1 }, { delayMs: 3600_000 })
        await h.queue.start()
        await h.queue.shutdown({ graceMs: 0 })
        expect(await job(h, later.id)).toMatchObject({ state: 'scheduled', attempt: 0, runAt: T0 + 3600_000 })
      })

      it('after shutdown, calls that need the store are refused with LIFECYCLE, not blamed on the store', async () => {
        const h = await open()
        h.queue.register(task, () => undefined)
        await h.queue.start()
        await h.queue.shutdown({ graceMs: 0 })
        const calls: [string, () => Promise<unknown>][] = [
          ['enqueue', () => h.queue.enqueue(task, { n: 1 })],
          ['enqueueMany', () => h.queue.enqueueMany([{ job: task, payload: { n: 1 } }])],
          ['schedule', () => h.queue.schedule('@every 1 hour', task, { n: 1 })],
          ['unschedule', () => h.queue.unschedule('task')],
          ['listSchedules', () => h.queue.listSchedules()],
          ['drain', () => h.queue.drain()],
          ['getJob', () => h.queue.getJob('1')],
          ['listJobs', () => h.queue.listJobs({})],
          ['retryJobs', () => h.queue.retryJobs({ kind: 'task' })],
          ['cancelJobs', () => h.queue.cancelJobs({ kind: 'task' })],
          ['deleteJobs', () => h.queue.deleteJobs({ kind: 'task' })],
          ['pauseJobs', () => h.queue.pauseJobs({ kind: 'task' })],
          ['resumeJobs', () => h.queue.resumeJobs({ kind: 'task' })],
          ['updateJob', () => h.queue.updateJob('1', { priority: 1 })],
          ['pauseQueue', () => h.queue.pauseQueue('default')],
          ['resumeQueue', () => h.queue.resumeQueue('default')],
          ['stats', () => h.queue.stats()],
          ['listProcesses', () => h.queue.listProcesses()],
          ['storageHealth', () => h.queue.storageHealth()],
          ['prune', () => h.queue.prune()],
          ['findOrphans', () => h.queue.findOrphans()],
        ]
        for (const [name, call] of calls)
          await expectError(call, 'LIFECYCLE', `${name}():`, 'was shut down', 'create a new queue')
      })

      it('rejects an invalid grace period', async () => {
        const h = await open()
        await expectError(() => h.queue.shutdown({ graceMs: -1 }), 'INVALID_ARGUMENT', 'graceMs')
      })
    })

    it('entry points that return promises report invalid input as a rejection, never a synchronous throw', async () => {
      const h = await open()
      const calls: [string, () => Promise<unknown>][] = [
        ['getJob', () => h.queue.getJob('abc')],
        ['listJobs', () => h.queue.listJobs({ bogus: 1 } as never)],
        ['retryJobs', () => h.queue.retryJobs({})],
        ['cancelJobs', () => h.queue.cancelJobs({})],
        ['deleteJobs', () => h.queue.deleteJobs({})],
        ['pauseQueue', () => h.queue.pauseQueue('bad name')],
        ['resumeQueue', () => h.queue.resumeQueue('bad name')],
        ['unschedule', () => h.queue.unschedule('bad name')],
        ['shutdown', () => h.queue.shutdown({ graceMs: -1 })],
        ['prune', () => h.queue.prune({ olderThanMs: -1 })],
        ['drain', () => h.queue.drain({ limit: -1 })],
      ]
      const syncThrows: string[] = []
      for (const [name, call] of calls) {
        let promise: Promise<unknown> | undefined
        try {
          promise = call()
        } catch {
          syncThrows.push(name)
          continue
        }
        await expect(promise).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      }
      expect(syncThrows).toEqual([])
    })
  })
}
