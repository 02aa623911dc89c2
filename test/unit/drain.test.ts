/**
 * Drain against the memory store with a recording runner: the queues it claims from by default,
 * how it runs each job (written at once, not batched), the heartbeat kept at its interval while it
 * runs and not called when there is nothing to run, the jobs it releases past its limit, a recursive
 * drain following a schedule's tick that came due while it ran, and its option checks.
 */
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { EventBus } from '../../src/core/domain/events.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { AttemptOutcome, DrainOptions } from '../../src/core/ports/queue.js'
import type { Completion, JobStore } from '../../src/core/ports/store.js'
import { drainJobs } from '../../src/core/runtime/drain.js'
import { HandlerRegistry } from '../../src/core/runtime/handler-registry.js'
import type { JobRunner, RunMode } from '../../src/core/runtime/job-runner.js'
import { ScheduleRegistrar } from '../../src/core/runtime/schedule-registrar.js'
import { newJobBuilder } from '../support/new-job.js'
import { nextTurn } from '../support/wait.js'

const mail = defineJob<{ n: number }>({ kind: 'mail', queue: 'mail' })

function setup(
  options: {
    register?: boolean
    runMs?: (job: JobRecord) => number
    /** Each job's time passes in steps of this many ms, with a turn of the event loop after each. */
    stepMs?: number
  } = {},
) {
  const clock = new ManualClock(0)
  const store = new MemoryStore({ clock })
  const registry = new HandlerRegistry()
  if (options.register !== false) registry.register(mail, () => {})
  const ran: string[] = []
  const modes: RunMode[] = []
  const beats: number[] = []
  const released: Completion[] = []
  const complete = store.completeJobs.bind(store)
  store.completeJobs = async (p) => {
    released.push(...p.completions.filter((c) => c.outcome === 'released'))
    return complete(p)
  }
  const runner = {
    run: async (job: JobRecord, _abort: unknown, mode: RunMode): Promise<AttemptOutcome> => {
      ran.push(job.id)
      modes.push(mode)
      const runMs = options.runMs?.(job) ?? 0
      if (options.stepMs === undefined) clock.advance(runMs)
      else
        for (let ms = 0; ms < runMs; ms += options.stepMs) {
          clock.advance(Math.min(options.stepMs, runMs - ms))
          await nextTurn()
        }
      await store.completeJobs({
        completions: [{ id: job.id, outcome: 'succeeded', attempt: job.attempt }],
        now: clock.now(),
      })
      return { outcome: 'succeeded', result: undefined }
    },
  } as unknown as JobRunner
  const drain = (o: DrainOptions = {}) =>
    drainJobs(
      {
        store: store as JobStore,
        clock,
        events: new EventBus(),
        registry,
        runner,
        strategy: 'priority',
        workerId: 'drain',
        missedToleranceMs: 60_000,
        heartbeat: async () => {
          beats.push(clock.now())
        },
        heartbeatIntervalMs: 100,
        rescueAfterMs: 60_000,
      },
      o,
    )
  const insert = async (n: number, queue = 'mail') => {
    const row = newJobBuilder({ kind: 'mail', queue })()
    await store.insertJobs({ jobs: Array.from({ length: n }, () => row), now: clock.now() })
  }
  return { clock, store, registry, drain, insert, ran, modes, beats, released }
}

it("claims from 'default' as well as its kinds' queues, and runs each job unbatched outside a transaction", async () => {
  const t = setup()
  await t.insert(1, 'default')
  await t.insert(1, 'mail')
  expect(await t.drain()).toMatchObject({ succeeded: 2, total: 2 })
  expect(t.modes).toEqual([
    { batched: false, transactional: false },
    { batched: false, transactional: false },
  ])
})

it('beats at its interval while running jobs, the interval itself included', async () => {
  const t = setup({ runMs: () => 50 })
  await t.insert(5)
  await t.drain()
  expect(t.ran).toHaveLength(5)
  expect(t.beats).toEqual([0, 100, 200])
})

it('beats at its interval while one long job runs, so the job never looks abandoned to a rescue', async () => {
  const t = setup({ runMs: () => 350, stepMs: 50 })
  await t.insert(1)
  await t.drain()
  expect(t.ran).toHaveLength(1)
  expect(t.beats).toEqual([0, 100, 200, 300])
  expect(t.clock.pendingTimers).toBe(0)
})

it('ticks once per interval while a beat is in flight, however far the clock jumps', async () => {
  const t = setup({ runMs: () => 86_400_000 })
  await t.insert(1)
  await t.drain()
  expect(t.beats).toEqual([0, 100, 86_400_000])
  expect(t.clock.pendingTimers).toBe(0)
})

it('starts no second beat while one is still in flight, and waits for it before going on', async () => {
  const t = setup({ runMs: () => 350 })
  await t.insert(1)
  await t.drain()
  // The job's 350 ms pass in one step: the beat at 100 has not settled when 200 and 300 come.
  expect(t.beats).toEqual([0, 100, 350])
  expect(t.clock.pendingTimers).toBe(0)
})

it('beats once for quick jobs', async () => {
  const t = setup({ runMs: () => 1 })
  await t.insert(3)
  await t.drain()
  expect(t.beats).toEqual([0])
})

it('calls no heartbeat with nothing to run or no kind registered', async () => {
  const empty = setup()
  expect(await empty.drain()).toMatchObject({ total: 0 })
  expect(empty.beats).toEqual([])

  const none = setup({ register: false })
  await none.insert(2)
  expect(await none.drain({ recursive: true })).toMatchObject({ total: 0 })
  expect(none.beats).toEqual([])
})

it('releases only the claimed jobs it did not run once its limit is reached', async () => {
  const t = setup()
  await t.insert(4)
  expect(await t.drain({ limit: 2 })).toMatchObject({ total: 2 })
  expect(t.ran).toEqual(['1', '2'])
  expect(t.released.map((c) => c.id)).toEqual(['3', '4'])
})

it("follows a schedule's tick that came due while it ran, when recursive", async () => {
  const t = setup({ runMs: (job) => (job.scheduleName === null ? 60_000 : 0) })
  await new ScheduleRegistrar({ store: t.store, clock: t.clock }).schedule('@every 1 minute', mail, { n: 0 })
  await t.insert(1)
  expect(await t.drain({ recursive: true })).toMatchObject({ total: 2 })
})

it('checks its options, naming each', async () => {
  const t = setup()
  await expect(t.drain({ nope: true } as DrainOptions)).rejects.toThrow(/drain options/)
  await expect(t.drain({ withScheduled: 'yes' } as never)).rejects.toThrow(/withScheduled/)
  await expect(t.drain({ recursive: 1 } as never)).rejects.toThrow(/recursive/)
  await expect(t.drain({ queues: 'mail' } as never)).rejects.toThrow(
    'drain option queues must be an array of queue names.',
  )
  await expect(t.drain({ queues: ['mail', ''] })).rejects.toThrow(/^drain option queues must be a string/)
  expect(await t.drain({ queues: ['mail'] })).toMatchObject({ total: 0 })
})
