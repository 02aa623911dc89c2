/**
 * Seeds from qron: pausing one job (its PAUSED state), changing a job's workflow state and its
 * schedule's expression from outside (`UpdateJobByID`), and the run count (`ExecutionAmount`).
 */
import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { JsonValue } from '../../../src/core/domain/json.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, job, settle, useHarness, waitForState, wakeUpsReady } from '../helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: the cases feed deliberately wrong arguments through the typed API.
type Any = any

const work = defineJob<{ n: number }>({ kind: 'work' })
const remind = defineJob<{ email: string }>({ kind: 'remind' })
const backup = defineJob<{ target: string }>({ kind: 'backup' })
const DAY = 24 * 3600_000

function record(h: Harness): number[] {
  const ran: number[] = []
  h.queue.register(work, ({ n }) => {
    ran.push(n)
  })
  return ran
}

export default function jobPauseCases(factory: HarnessFactory): void {
  describe('pausing one job', () => {
    const open = useHarness(factory)

    it('a paused job is not drained while the others run; resumed, it runs', async () => {
      const h = await open()
      const ran = record(h)
      const a = await h.queue.enqueue(work, { n: 1 })
      await h.queue.enqueue(work, { n: 2 })
      expect(await h.queue.pauseJobs({ ids: [a.id] })).toBe(1)
      expect((await job(h, a.id)).state).toBe('paused')
      await h.queue.drain({ withScheduled: true })
      expect(ran).toEqual([2])
      expect(await h.queue.resumeJobs({ ids: [a.id] })).toBe(1)
      expect((await job(h, a.id)).state).toBe('available')
      await h.queue.drain()
      expect(ran).toEqual([2, 1])
    })

    it('started workers never claim a paused job, and run it once resumed', async () => {
      const h = await open({ pollIntervalMs: 50 })
      const ran = record(h)
      const a = await h.queue.enqueue(work, { n: 1 })
      await h.queue.pauseJobs({ ids: [a.id] })
      await h.queue.start()
      await wakeUpsReady(h)
      const b = await h.queue.enqueue(work, { n: 2 })
      await waitForState(h, b.id, 'succeeded')
      h.clock.advance(1000)
      await settle()
      expect(ran).toEqual([2])
      await h.queue.resumeJobs({ ids: [a.id] })
      await waitForState(h, a.id, 'succeeded')
      expect(ran).toEqual([2, 1])
    })

    it('returns to scheduled or available by its run time; a job of a paused queue stays held', async () => {
      const h = await open()
      const ran = record(h)
      const later = await h.queue.enqueue(work, { n: 1 }, { delayMs: 60_000 })
      const now = await h.queue.enqueue(work, { n: 2 })
      expect(await h.queue.pauseJobs({ kind: 'work' })).toBe(2)
      h.clock.advance(10_000)
      expect(await h.queue.resumeJobs({ states: ['paused'] })).toBe(2)
      expect((await job(h, later.id)).state).toBe('scheduled')
      expect((await job(h, now.id)).state).toBe('available')
      await h.queue.pauseQueue('default')
      expect((await h.queue.drain()).total).toBe(0)
      await h.queue.resumeQueue('default')
      h.clock.advance(50_000)
      await h.queue.drain()
      expect(ran).toEqual([2, 1])
    })

    it('keeps its unique key while paused: enqueueing the key again returns the paused job', async () => {
      const h = await open()
      const a = await h.queue.enqueue(work, { n: 1 }, { uniqueKey: 'daily' })
      await h.queue.pauseJobs({ ids: [a.id] })
      const again = await h.queue.enqueue(work, { n: 2 }, { uniqueKey: 'daily' })
      expect(again).toMatchObject({ id: a.id, duplicate: true })
    })

    it('only waiting jobs are paused; running and finished ones are left alone', async () => {
      const h = await open()
      record(h)
      const done = await h.queue.enqueue(work, { n: 1 })
      await h.queue.drain()
      const waiting = await h.queue.enqueue(work, { n: 2 })
      expect(await h.queue.pauseJobs({ states: ['succeeded', 'available'] })).toBe(1)
      expect((await job(h, done.id)).state).toBe('succeeded')
      expect((await job(h, waiting.id)).state).toBe('paused')
      expect(await h.queue.resumeJobs({ ids: [done.id] })).toBe(0)
    })

    it('a paused job can be cancelled, retried (run now) and changed', async () => {
      const h = await open()
      const ran = record(h)
      const a = await h.queue.enqueue(work, { n: 1 })
      const b = await h.queue.enqueue(work, { n: 2 }, { delayMs: 60_000 })
      await h.queue.pauseJobs({ ids: [a.id, b.id] })
      expect(await h.queue.updateJob(b.id, { priority: 5, state: { step: 2 } })).toMatchObject({
        state: 'paused',
        priority: 5,
        workflowState: { step: 2 },
      })
      expect(await h.queue.cancelJobs({ ids: [a.id] })).toBe(1)
      expect(await h.queue.retryJobs({ ids: [b.id] })).toBe(1)
      await h.queue.drain()
      expect(ran).toEqual([2])
    })

    it('emits paused and resumed for each job', async () => {
      const h = await open()
      const seen: string[] = []
      h.queue.on('paused', ({ job: j }) => seen.push(`paused ${j.id} ${j.state}`))
      h.queue.on('resumed', ({ job: j }) => seen.push(`resumed ${j.id} ${j.state}`))
      const a = await h.queue.enqueue(work, { n: 1 })
      const b = await h.queue.enqueue(work, { n: 2 }, { delayMs: 1000 })
      await h.queue.pauseJobs({ ids: [a.id, b.id] })
      await h.queue.resumeJobs({ ids: [a.id, b.id] })
      expect(seen).toEqual([
        `paused ${a.id} paused`,
        `paused ${b.id} paused`,
        `resumed ${a.id} available`,
        `resumed ${b.id} scheduled`,
      ])
    })

    it('stats count paused jobs', async () => {
      const h = await open()
      const a = await h.queue.enqueue(work, { n: 1 })
      await h.queue.pauseJobs({ ids: [a.id] })
      expect((await h.queue.stats()).find((s) => s.queue === 'default')?.counts.paused).toBe(1)
      expect(await h.queue.listJobs({ states: ['paused'] })).toEqual([expect.objectContaining({ id: a.id })])
    })

    it('rejects a filter without criterion or with unknown fields, as the other bulk actions do', async () => {
      const h = await open()
      await expectError(() => h.queue.pauseJobs({}), 'INVALID_ARGUMENT', 'at least one filter criterion')
      await expectError(() => h.queue.resumeJobs({}), 'INVALID_ARGUMENT', 'at least one filter criterion')
      await expectError(() => h.queue.pauseJobs({ name: 'x' } as Any), 'INVALID_ARGUMENT', '"name"')
      await expectError(() => h.queue.resumeJobs(null as Any), 'INVALID_ARGUMENT', 'filter')
      await expectError(() => h.queue.pauseJobs({ states: ['paws'] } as Any), 'INVALID_ARGUMENT', 'paused')
    })
  })

  describe('changing a job from outside (qron UpdateJobByID)', () => {
    const open = useHarness(factory)

    it("replaces the workflow state a waiting job's next run reads as ctx.state (qron's reminder workflow)", async () => {
      const h = await open()
      // qron's remindq: remind up to 10 times, a day apart, counting reminders in the state.
      const outcomes: string[] = []
      h.queue.register(remind, (_p, ctx) => {
        const state = ctx.state as { attempts: number }
        const attempt = state.attempts + 1
        if (attempt >= 10) {
          outcomes.push(`fail at ${attempt}`)
          return ctx.fail('gave up reminding')
        }
        outcomes.push(`remind ${attempt}`)
        return ctx.snooze(DAY, { state: { ...state, attempts: attempt } })
      })
      const r = await h.queue.enqueue(remind, { email: 'a@b.c' }, { state: { attempts: 0 } })
      await h.queue.drain()
      // The operator decides this customer had enough reminders.
      const updated = await h.queue.updateJob(r.id, { state: { attempts: 9 } })
      expect(updated).toMatchObject({ state: 'scheduled', workflowState: { attempts: 9 }, runAt: T0 + DAY })
      h.clock.advance(DAY)
      await h.queue.drain()
      expect(outcomes).toEqual(['remind 1', 'fail at 10'])
      expect(await job(h, r.id)).toMatchObject({ state: 'failed', workflowState: { attempts: 9 } })
    })

    it('state null clears it; other fields may change in the same call', async () => {
      const h = await open()
      const seen: (JsonValue | null)[] = []
      h.queue.register(work, (_p, ctx) => {
        seen.push(ctx.state)
      })
      const r = await h.queue.enqueue(work, { n: 1 }, { state: { step: 3 } })
      expect(await h.queue.updateJob(r.id, { state: null, priority: 2 })).toMatchObject({
        workflowState: null,
        priority: 2,
      })
      await h.queue.drain()
      expect(seen).toEqual([null])
    })

    it('rejects a state that cannot be stored as JSON, and a job that is not waiting, writing nothing', async () => {
      const h = await open()
      record(h)
      const r = await h.queue.enqueue(work, { n: 1 }, { state: { ok: true } })
      await expectError(
        () => h.queue.updateJob(r.id, { state: { at: new Date(T0) } as Any, priority: 4 }),
        'INVALID_PAYLOAD',
        'patch.state',
      )
      await expectError(
        () => h.queue.updateJob(r.id, { state: undefined }),
        'INVALID_ARGUMENT',
        'at least one',
      )
      expect(await job(h, r.id)).toMatchObject({ workflowState: { ok: true }, priority: 0 })
      await h.queue.drain()
      await expectError(
        () => h.queue.updateJob(r.id, { state: { ok: false } }),
        'JOB_NOT_WAITING',
        'succeeded',
      )
    })

    it('changes the expression of the schedule that enqueued the job; the job keeps its run time', async () => {
      const h = await open()
      h.queue.register(backup, () => {})
      await h.queue.schedule('0 0 * * *', backup, { target: 'db' }, { name: 'nightly' })
      await h.queue.pauseQueue('default')
      h.clock.set(T0 + DAY)
      await h.queue.drain()
      const [tick] = await h.queue.listJobs({ scheduleName: 'nightly' })
      expect(tick).toMatchObject({ state: 'available', runAt: T0 + DAY })
      const updated = await h.queue.updateJob(tick!.id, { expression: '@every 1 hour' })
      expect(updated).toMatchObject({ id: tick!.id, runAt: T0 + DAY, state: 'available' })
      const schedule = (await h.queue.listSchedules()).find((s) => s.name === 'nightly')
      expect(schedule).toMatchObject({
        expression: '@every 1 hour',
        nextRunAt: T0 + DAY + 3600_000,
        kind: 'backup',
        payload: { target: 'db' },
      })
      // With runAt in the same call, the job moves too.
      expect(
        await h.queue.updateJob(tick!.id, { expression: '*/30 * * * *', runAt: T0 + DAY + 60_000 }),
      ).toMatchObject({
        runAt: T0 + DAY + 60_000,
        state: 'scheduled',
      })
      expect((await h.queue.listSchedules()).find((s) => s.name === 'nightly')).toMatchObject({
        expression: '*/30 * * * *',
        // A cron tick at the current instant is due at once, as for a new schedule (its job exists).
        nextRunAt: T0 + DAY,
      })
    })

    it('refuses an expression for a job no schedule enqueued, or an invalid one, writing nothing', async () => {
      const h = await open()
      h.queue.register(backup, () => {})
      const plain = await h.queue.enqueue(backup, { target: 'x' })
      await expectError(
        () => h.queue.updateJob(plain.id, { expression: '@every 1 hour' }),
        'INVALID_ARGUMENT',
        'not enqueued by a schedule',
      )
      await h.queue.schedule('0 0 * * *', backup, { target: 'db' }, { name: 'nightly' })
      await h.queue.pauseQueue('default')
      h.clock.set(T0 + DAY)
      await h.queue.drain()
      const [tick] = await h.queue.listJobs({ scheduleName: 'nightly' })
      await expectError(
        () => h.queue.updateJob(tick!.id, { expression: '@every banana', priority: 3 }),
        'INVALID_SCHEDULE',
      )
      await expectError(
        () => h.queue.updateJob(tick!.id, { expression: 5 as Any }),
        'INVALID_ARGUMENT',
        'expression',
      )
      expect((await job(h, tick!.id)).priority).toBe(0)
      expect((await h.queue.listSchedules())[0]?.expression).toBe('0 0 * * *')
      await h.queue.unschedule('nightly')
      await expectError(
        () => h.queue.updateJob(tick!.id, { expression: '@every 1 hour' }),
        'INVALID_ARGUMENT',
        '"nightly"',
      )
    })
  })

  describe('the run count (qron ExecutionAmount)', () => {
    const open = useHarness(factory)

    it('a workflow that snoozes twice sees runs 1, 2, 3 while its attempt stays 1', async () => {
      const h = await open()
      const seen: [number, number][] = []
      h.queue.register(work, (_p, ctx) => {
        seen.push([ctx.run, ctx.attempt])
        if (ctx.run < 3) return ctx.snooze(1000)
        return undefined
      })
      const r = await h.queue.enqueue(work, { n: 1 })
      expect((await job(h, r.id)).runs).toBe(0)
      await h.queue.drain({ recursive: true, withScheduled: true })
      expect(seen).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
      ])
      expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', runs: 3, attempt: 1 })
    })

    it("qron's backup handler: fail for good once it has run more than 3 times, else retry", async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(backup, (_p, ctx) => {
        const err = new Error('backup failed')
        if (ctx.run > 3) return ctx.fail(err.message)
        throw err
      })
      const r = await h.queue.enqueue(backup, { target: 'db' }, { maxAttempts: 10 })
      for (let i = 0; i < 6; i++) {
        await h.queue.drain({ withScheduled: true })
      }
      expect(await job(h, r.id)).toMatchObject({ state: 'failed', runs: 4, attempt: 4 })
    })
  })
}
