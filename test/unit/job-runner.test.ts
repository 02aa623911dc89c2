/**
 * The job runner against a recording store and completer: an unknown kind released and refused;
 * which path a run takes (the completer or a write now, in the job's transaction or not); the
 * outcome's events only after a write the store applied; transactional execution (applied, not
 * applied, rolled back, the transaction itself failing); and the previous success a scheduled run
 * is told of.
 */
import { expect, it } from 'vitest'
import { DEFAULT_BACKOFF } from '../../src/core/domain/backoff.js'
import { UnknownJobKindError } from '../../src/core/domain/errors.js'
import { EventBus } from '../../src/core/domain/events.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { silentLogger } from '../../src/core/ports/logger.js'
import type { RunReport } from '../../src/core/ports/middleware.js'
import type { JobHandler, RegisterOptions, ScheduleRunInfo } from '../../src/core/ports/queue.js'
import type { Completion, JobStore, ScheduleRecord } from '../../src/core/ports/store.js'
import { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import type { Completer } from '../../src/core/runtime/completer.js'
import { HandlerRegistry } from '../../src/core/runtime/handler-registry.js'
import type { IsolatedModuleSpec, IsolationHost } from '../../src/core/runtime/isolation/isolation-host.js'
import { JobRunner, type RunMode } from '../../src/core/runtime/job-runner.js'
import { MiddlewareChain } from '../../src/core/runtime/middleware-chain.js'
import { newJobBuilder } from '../support/new-job.js'

const work = defineJob<{ n: number }>({ kind: 'work' })
const DRAIN: RunMode = { batched: false, transactional: false }
const WORKER: RunMode = { batched: true, transactional: false }

interface Setup {
  handler?: JobHandler<unknown>
  register?: RegisterOptions
  /** The store skips these ids when completing. */
  skip?: string[]
  /** The store runs handlers in transactions; `applied`: what completeInTransaction answers. */
  transactions?: { applied?: boolean; fails?: 'before' | 'after' }
  schedules?: ScheduleRecord[]
  /** What listJobs answers (the newest succeeded job of a schedule). */
  listed?: JobRecord[]
  isolation?: IsolationHost
  /** Run middleware sees each attempt's report. */
  reports?: RunReport[]
}

function setup(s: Setup = {}) {
  const clock = new ManualClock(1000)
  const writes: Completion[] = []
  const added: Completion[] = []
  const listCalls: unknown[] = []
  const txCalls: { completion: Completion; now?: number; tx: unknown }[] = []
  const commits: boolean[] = []
  let attempted = false
  const store = {
    capabilities: {
      multiProcess: false,
      transactionalEnqueue: false,
      transactionalExecution: s.transactions !== undefined,
      storageHealth: false,
    },
    completeJobs: async (p: { completions: readonly Completion[] }) => {
      writes.push(...p.completions)
      return { skipped: p.completions.filter((c) => s.skip?.includes(c.id)).map((c) => c.id) }
    },
    listSchedules: async () => s.schedules ?? [],
    listJobs: async (p: unknown) => {
      listCalls.push(p)
      return s.listed ?? []
    },
    runInTransaction: async <T>(fn: (tx: unknown) => Promise<{ commit: boolean; value: T }>): Promise<T> => {
      if (s.transactions?.fails === 'before') throw new Error('no connection')
      const r = await fn('the-tx')
      commits.push(r.commit)
      if (s.transactions?.fails === 'after') throw new Error('commit failed')
      return r.value
    },
    completeInTransaction: async (p: { completion: Completion; now?: number; tx: unknown }) => {
      txCalls.push(p)
      return s.transactions?.applied ?? true
    },
  } as unknown as JobStore
  const completer = {
    add: (c: Completion) => {
      added.push(c)
    },
  } as unknown as Completer
  const registry = new HandlerRegistry(s.isolation)
  const seen: { tx: unknown; schedule: ScheduleRunInfo | null }[] = []
  registry.register(
    work,
    s.handler ??
      ((_p, ctx) => {
        attempted = true
        seen.push({ tx: ctx.tx, schedule: ctx.schedule })
      }),
    s.register,
  )
  const events = new EventBus()
  const heard: string[] = []
  const durations: unknown[] = []
  for (const name of ['started', 'succeeded', 'failed', 'retried', 'snoozed'] as const)
    events.on(name, () => heard.push(name))
  events.on('failed', (e) => durations.push(e.durationMs))
  const runner = new JobRunner({
    store,
    executor: { clock, random: () => 0.5, logger: silentLogger, defaultBackoff: DEFAULT_BACKOFF },
    events,
    registry,
    completer,
    afterComplete: () => {},
    middleware: new MiddlewareChain(
      s.reports
        ? [
            {
              run: async (_job, next) => {
                const report = await next()
                s.reports?.push(report)
                return report
              },
            },
          ]
        : [],
    ),
  })
  return {
    runner,
    clock,
    writes,
    added,
    listCalls,
    txCalls,
    commits,
    heard,
    durations,
    seen,
    get attempted() {
      return attempted
    },
  }
}

function jobOf(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    ...newJobRecord('5', newJobBuilder({ kind: 'work', payload: { n: 1 } })(), 'running', 1000),
    attempt: 1,
    ...overrides,
  }
}

it('releases a job of an unknown kind and refuses it, also on a worker with isolation', async () => {
  for (const mode of [DRAIN, { ...WORKER, isolation: 'thread' as const }]) {
    const t = setup()
    const run = t.runner.run(jobOf({ kind: 'unknown', attempt: 2 }), new AbortHandle(), mode)
    await expect(run).rejects.toThrow(UnknownJobKindError)
    await expect(run).rejects.toThrow(/returned to the queue/)
    expect(t.writes).toEqual([{ id: '5', outcome: 'released', attempt: 2 }])
  }
})

it("runs a module without isolation of its own in the worker's isolation mode", async () => {
  const specs: IsolatedModuleSpec[] = []
  const isolation: IsolationHost = {
    handlerFor: (spec) => {
      specs.push(spec)
      return () => 'isolated'
    },
    close: async () => {},
  }
  const t = setup({ isolation, handler: new URL('file:///nowhere/handler.js') as never })
  const outcome = await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, isolation: 'thread' })
  expect(outcome).toEqual({ outcome: 'succeeded', result: 'isolated' })
  expect(specs).toMatchObject([{ mode: 'thread' }])
})

it("hands a worker's completion to the completer and a drain's to the store, with the events after the write", async () => {
  const w = setup()
  await w.runner.run(jobOf(), new AbortHandle(), WORKER)
  expect(w.added).toMatchObject([{ id: '5', outcome: 'succeeded' }])
  expect(w.writes).toEqual([])
  expect(w.heard).toEqual(['started']) // the completer emits the rest once written

  const d = setup()
  await d.runner.run(jobOf(), new AbortHandle(), DRAIN)
  expect(d.writes).toMatchObject([{ id: '5', outcome: 'succeeded' }])
  expect(d.heard).toEqual(['started', 'succeeded'])
  expect(d.runner.localRuns.size).toBe(0)
})

it('emits no outcome event for a completion the store skipped', async () => {
  const t = setup({ skip: ['5'] })
  await t.runner.run(jobOf(), new AbortHandle(), DRAIN)
  expect(t.writes).toHaveLength(1)
  expect(t.heard).toEqual(['started'])
})

it("hands a worker's scheduled job to the completer too, without events of its own", async () => {
  const t = setup({ schedules: [] })
  await t.runner.run(jobOf({ scheduleName: 's', scheduleTick: 1000 }), new AbortHandle(), WORKER)
  expect(t.added).toMatchObject([{ id: '5', outcome: 'succeeded' }])
  expect(t.writes).toEqual([])
  expect(t.heard).toEqual(['started'])
})

it("runs in the job's transaction when the worker or the kind asks, and not otherwise", async () => {
  const byWorker = setup({ transactions: {} })
  await byWorker.runner.run(jobOf(), new AbortHandle(), { ...WORKER, transactional: true })
  expect(byWorker.seen).toEqual([{ tx: 'the-tx', schedule: null }])

  const byKind = setup({ transactions: {}, register: { transactional: true } })
  await byKind.runner.run(jobOf(), new AbortHandle(), WORKER)
  expect(byKind.seen).toEqual([{ tx: 'the-tx', schedule: null }])

  const neither = setup({ transactions: {} })
  await neither.runner.run(jobOf(), new AbortHandle(), DRAIN)
  expect(neither.seen).toEqual([{ tx: null, schedule: null }])
  expect(neither.txCalls).toEqual([])
})

it("writes a success in the job's transaction: nothing else written, its events emitted", async () => {
  const t = setup({ transactions: { applied: true } })
  const outcome = await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, transactional: true })
  expect(outcome).toEqual({ outcome: 'succeeded', result: undefined })
  expect(t.txCalls).toEqual([
    { completion: { id: '5', outcome: 'succeeded', attempt: 1 }, now: 1000, tx: 'the-tx' },
  ])
  expect(t.commits).toEqual([true])
  expect(t.writes).toEqual([])
  expect(t.added).toEqual([])
  expect(t.heard).toEqual(['started', 'succeeded'])
})

it("writes a snooze in the job's transaction too", async () => {
  const t = setup({ transactions: { applied: true }, handler: (_p, ctx) => ctx.snooze(10) })
  await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, transactional: true })
  expect(t.txCalls).toMatchObject([{ completion: { id: '5', outcome: 'snoozed', runAt: 1010 } }])
  expect(t.commits).toEqual([true])
  expect(t.writes).toEqual([])
  expect(t.heard).toEqual(['started', 'snoozed'])
})

it('rolls back a success the store did not apply (the job was rescued or cancelled): nothing written, no events, released as run middleware sees it', async () => {
  for (const handler of [() => undefined, ((_p, ctx) => ctx.snooze(10)) as JobHandler<unknown>]) {
    const reports: RunReport[] = []
    const t = setup({ transactions: { applied: false }, handler, reports })
    const outcome = await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, transactional: true })
    expect(['succeeded', 'snoozed']).toContain(outcome.outcome)
    expect(t.commits).toEqual([false])
    expect(t.writes).toEqual([])
    expect(t.heard).toEqual(['started'])
    expect(reports).toMatchObject([{ completion: { id: '5', outcome: 'released' } }])
  }
})

it('rolls back a failed attempt and writes its retry outside the transaction', async () => {
  const t = setup({
    transactions: { applied: true },
    handler: () => {
      throw new Error('boom')
    },
  })
  const outcome = await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, transactional: true })
  expect(outcome).toMatchObject({ outcome: 'retry' })
  expect(t.commits).toEqual([false])
  expect(t.txCalls).toEqual([])
  expect(t.writes).toMatchObject([{ id: '5', outcome: 'retry', error: { message: 'boom' } }])
  expect(t.heard).toEqual(['started', 'failed', 'retried'])
})

it("retries at once a job whose transaction failed, with the attempt's logs, or fails it on its last attempt", async () => {
  const logs: JobHandler<unknown> = (_p, ctx) => {
    ctx.log.info('in tx')
  }
  const t = setup({ transactions: { fails: 'after' }, handler: logs })
  const outcome = await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, transactional: true }, 30)
  expect(outcome).toMatchObject({ outcome: 'failed', error: { message: 'commit failed' } })
  expect(t.writes).toEqual([
    {
      id: '5',
      outcome: 'retry',
      error: expect.objectContaining({ message: 'commit failed', attempt: 1, at: 1000 }),
      runAt: 1000,
      attempt: 1,
      logs: { attempt: 1, lines: [expect.objectContaining({ message: 'in tx' })] },
      bufferWaitMs: 30,
    },
  ])
  expect(t.heard).toEqual(['started', 'failed', 'retried'])

  const last = setup({ transactions: { fails: 'after' } })
  await last.runner.run(jobOf({ attempt: 3, maxAttempts: 3 }), new AbortHandle(), {
    ...DRAIN,
    transactional: true,
  })
  expect(last.writes).toMatchObject([{ id: '5', outcome: 'failed', attempt: 3 }])
  expect(last.writes[0]).not.toHaveProperty('runAt')
})

it('reports a failed transaction that could not even start with a duration of 0', async () => {
  const t = setup({ transactions: { fails: 'before' } })
  await t.runner.run(jobOf(), new AbortHandle(), { ...DRAIN, transactional: true })
  expect(t.durations).toEqual([0])
})

it('retries a job whose transaction could not even start, without logs or duration', async () => {
  const t = setup({ transactions: { fails: 'before' } })
  const outcome = await t.runner.run(jobOf(), new AbortHandle(), { ...WORKER, transactional: true })
  expect(outcome).toMatchObject({ outcome: 'failed' })
  expect(t.attempted).toBe(false)
  expect(t.added).toEqual([
    {
      id: '5',
      outcome: 'retry',
      error: expect.objectContaining({ message: 'no connection' }),
      runAt: 1000,
      attempt: 1,
      logs: undefined,
      bufferWaitMs: 0,
    },
  ])
})

function schedule(lastSuccessAt: number | null): ScheduleRecord {
  return { name: 's', lastSuccessAt } as unknown as ScheduleRecord
}

it("tells a scheduled run its schedule's last success when it is older than the run's tick, without looking further", async () => {
  const t = setup({ schedules: [schedule(400)], listed: [jobOf({ id: '2', scheduleTick: 300 })] })
  await t.runner.run(jobOf({ scheduleName: 's', scheduleTick: 500 }), new AbortHandle(), DRAIN)
  expect(t.seen[0]?.schedule).toEqual({ name: 's', tick: 500, previousSuccessAt: 400 })
  expect(t.listCalls).toEqual([])
})

it('looks for the newest succeeded job of the schedule enqueued before this one when a tick as new or newer succeeded', async () => {
  for (const last of [500, 600]) {
    const t = setup({ schedules: [schedule(last)], listed: [jobOf({ id: '2', scheduleTick: 300 })] })
    await t.runner.run(jobOf({ scheduleName: 's', scheduleTick: 500 }), new AbortHandle(), DRAIN)
    expect(t.seen[0]?.schedule).toEqual({ name: 's', tick: 500, previousSuccessAt: 300 })
    expect(t.listCalls).toEqual([
      { filter: { scheduleName: 's', states: ['succeeded'] }, limit: 1, beforeId: '5' },
    ])
  }
})

it('tells a scheduled run of no previous success when none older is known, or its schedule is gone', async () => {
  const cases: Setup[] = [
    { schedules: [schedule(600)], listed: [] },
    { schedules: [schedule(600)], listed: [jobOf({ id: '2', scheduleTick: 500 })] },
    { schedules: [schedule(600)], listed: [jobOf({ id: '2', scheduleTick: 700 })] },
    { schedules: [schedule(600)], listed: [jobOf({ id: '2', scheduleTick: null })] },
    { schedules: [] },
  ]
  for (const c of cases) {
    const t = setup(c)
    await t.runner.run(jobOf({ scheduleName: 's', scheduleTick: 500 }), new AbortHandle(), DRAIN)
    expect(t.seen[0]?.schedule).toEqual({ name: 's', tick: 500, previousSuccessAt: null })
  }
})
