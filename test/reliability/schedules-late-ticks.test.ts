/**
 * The two schedule faults the multi-process scenario (schedules.test.ts) found, pinned down
 * deterministically: a scheduler pass that comes late by more than one interval (but within the
 * missed-tick tolerance) must enqueue every tick it passed, not only the latest; and a process
 * re-registering a schedule at boot with a copy read before other processes fired ticks must not
 * rewind the schedule's next run time.
 */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { Queue } from '../../src/core/ports/queue.js'
import type { JobStore } from '../../src/core/ports/store.js'
import { describePostgres, newJob, T0, useStore } from '../postgres/fixture.js'

const tick = defineJob<Record<string, never>>({ kind: 'late-tick' })

/** Schedules `@every 1s` at T0, lets 3.5 s pass without a pass, drains; returns the ticks that ran. */
async function ticksAfterALatePass(queue: Queue, clock: ManualClock): Promise<number[]> {
  const seen: number[] = []
  queue.register(tick, async (_payload, ctx) => {
    seen.push(ctx.schedule!.tick)
  })
  await queue.schedule('@every 1s', tick, {}, { name: 'late' })
  clock.advance(3500)
  await queue.drain()
  return seen.sort((a, b) => a - b)
}

it('memory: a pass late by several intervals (within the tolerance) enqueues each tick it passed, once', async () => {
  const clock = new ManualClock(T0)
  const queue = createMemoryQueue({ clock })
  expect(await ticksAfterALatePass(queue, clock)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000])
  // And the next pass continues from there, without repeating one.
  clock.advance(1000)
  await queue.drain()
  expect((await queue.listJobs({ scheduleName: 'late' })).map((j) => j.scheduleTick).sort()).toEqual([
    T0 + 1000,
    T0 + 2000,
    T0 + 3000,
    T0 + 4000,
  ])
})

/** A stale copy written back by a booting process keeps the stored next tick; a new expression replaces it. */
async function staleUpsertKeepsNextRun(store: JobStore): Promise<void> {
  const schedule = {
    name: 'every-second',
    expression: '@every 1s',
    timezone: null,
    kind: 'late-tick',
    payload: {},
    jobTemplate: (({ kind: _k, payload: _p, runAt: _r, scheduleName: _s, scheduleTick: _t, ...rest }) =>
      rest)(newJob()),
    nextRunAt: T0 + 1000,
    missedPolicy: 'runOnce' as const,
  }
  await store.upsertSchedule({ schedule, now: T0 })
  // A booting process read the schedule (next run T0 + 1000)...
  const [stale] = await store.listSchedules()
  // ...then another process fired two ticks...
  for (const at of [T0 + 1000, T0 + 2000]) {
    await store.fireScheduleTick({
      name: 'every-second',
      expectedNextRunAt: at,
      nextRunAt: at + 1000,
      job: newJob({ kind: 'late-tick', scheduleName: 'every-second', scheduleTick: at, runAt: at }),
      now: at,
    })
  }
  // ...and the booting process writes back what it read: the same expression keeps the stored next tick.
  const saved = await store.upsertSchedule({
    schedule: { ...schedule, nextRunAt: stale!.nextRunAt },
    now: T0 + 2100,
  })
  expect(saved.nextRunAt).toBe(T0 + 3000)
  // A changed expression still replaces it.
  const changed = await store.upsertSchedule({
    schedule: { ...schedule, expression: '@every 2s', nextRunAt: T0 + 4000 },
    now: T0 + 2200,
  })
  expect(changed.nextRunAt).toBe(T0 + 4000)
}

it('memory: re-registering a schedule with a stale copy does not rewind its next run time', async () => {
  await staleUpsertKeepsNextRun(new MemoryStore())
})

describePostgres('schedule races on PostgreSQL', () => {
  const db = useStore()

  it('a pass late by several intervals (within the tolerance) enqueues each tick it passed, once', async () => {
    const clock = new ManualClock(T0)
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema, clock })
    try {
      expect(await ticksAfterALatePass(queue, clock)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000])
    } finally {
      await queue.shutdown()
    }
  })

  it('re-registering a schedule with a stale copy does not rewind its next run time', async () => {
    await staleUpsertKeepsNextRun(db.store)
  })
})
