import pg from 'pg'
import { expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import type { ScheduleRecord } from '../../src/core/ports/store.js'
import { databaseUrl, describePostgres, newJob, T0, useStore } from './fixture.js'

const template = {
  queue: 'default',
  priority: 0,
  maxAttempts: 3,
  timeoutMs: 0,
  weight: 1,
  uniqueKey: null,
  groupKey: null,
  dependsOn: [],
  metadata: { from: 'schedule' },
  tags: ['cron'],
  workflowState: null,
  backoff: null,
  traceContext: null,
}

function schedule(fields: Partial<ScheduleRecord> = {}) {
  return {
    name: 'nightly',
    expression: '0 4 * * *',
    timezone: 'Europe/Paris',
    kind: 'test',
    payload: { full: true },
    jobTemplate: template,
    nextRunAt: T0 + 1000,
    missedPolicy: 'runOnce' as const,
    ...fields,
  }
}

const tickJob = (tick: number) =>
  newJob({ scheduleName: 'nightly', scheduleTick: tick, runAt: tick, payload: { full: true } })

describePostgres('PostgresStore schedules', () => {
  const db = useStore()

  it('upserts, lists, finds due and deletes schedules', async () => {
    const saved = await db.store.upsertSchedule({ schedule: schedule(), now: T0 })
    expect(saved).toEqual({
      ...schedule(),
      lastTickAt: null,
      lastSuccessAt: null,
      createdAt: T0,
      updatedAt: T0,
    })
    await db.store.upsertSchedule({ schedule: schedule({ name: 'a-first', nextRunAt: null }), now: T0 })
    expect((await db.store.listSchedules()).map((s) => s.name)).toEqual(['a-first', 'nightly'])
    expect(await db.store.dueSchedules({ now: T0 + 999 })).toEqual([])
    expect((await db.store.dueSchedules({ now: T0 + 1000 })).map((s) => s.name)).toEqual(['nightly'])
    expect(await db.store.deleteSchedule({ name: 'a-first' })).toBe(true)
    expect(await db.store.deleteSchedule({ name: 'a-first' })).toBe(false)
  })

  it('keeps tick history and creation time when replaced', async () => {
    await db.store.upsertSchedule({ schedule: schedule(), now: T0 })
    await db.store.fireScheduleTick({
      name: 'nightly',
      expectedNextRunAt: T0 + 1000,
      nextRunAt: T0 + 2000,
      job: tickJob(T0 + 1000),
      now: T0 + 1000,
    })
    const replaced = await db.store.upsertSchedule({
      schedule: schedule({ expression: '@hourly', nextRunAt: T0 + 5000 }),
      now: T0 + 1500,
    })
    expect(replaced).toMatchObject({
      expression: '@hourly',
      nextRunAt: T0 + 5000,
      lastTickAt: T0 + 1000,
      createdAt: T0,
      updatedAt: T0 + 1500,
    })
  })

  it('fires a tick once: compare-and-set on the next run time', async () => {
    await db.store.upsertSchedule({ schedule: schedule(), now: T0 })
    const fire = {
      name: 'nightly',
      expectedNextRunAt: T0 + 1000,
      nextRunAt: T0 + 2000,
      job: tickJob(T0 + 1000),
      now: T0 + 1000,
    }
    const job = await db.store.fireScheduleTick(fire)
    expect(job).toMatchObject({
      scheduleName: 'nightly',
      scheduleTick: T0 + 1000,
      state: 'available',
      metadata: {},
    })
    expect(await db.store.fireScheduleTick(fire)).toBeNull()
    expect((await db.store.listSchedules())[0]).toMatchObject({
      nextRunAt: T0 + 2000,
      lastTickAt: T0 + 1000,
      updatedAt: T0 + 1000,
    })
  })

  it('advances without a job when the tick is skipped, and never inserts a tick twice', async () => {
    await db.store.upsertSchedule({ schedule: schedule(), now: T0 })
    expect(
      await db.store.fireScheduleTick({
        name: 'nightly',
        expectedNextRunAt: T0 + 1000,
        nextRunAt: T0 + 2000,
        job: null,
        now: T0,
      }),
    ).toBeNull()
    expect((await db.store.listSchedules())[0]).toMatchObject({ nextRunAt: T0 + 2000, lastTickAt: null })
    await db.store.insertJobs({ jobs: [tickJob(T0 + 2000)], now: T0 })
    const again = await db.store.fireScheduleTick({
      name: 'nightly',
      expectedNextRunAt: T0 + 2000,
      nextRunAt: null,
      job: tickJob(T0 + 2000),
      now: T0,
    })
    expect(again).toBeNull()
    expect((await db.store.listSchedules())[0]?.nextRunAt).toBeNull()
    expect(await db.store.listJobs({ filter: { scheduleName: 'nightly' }, limit: 10 })).toHaveLength(1)
  })

  it('fires each tick exactly once when several processes race', async () => {
    await db.store.upsertSchedule({ schedule: schedule(), now: T0 })
    const pools = Array.from({ length: 5 }, () => new pg.Pool({ connectionString: databaseUrl(), max: 2 }))
    const stores = pools.map((pool) => new PostgresStore({ pool, schema: db.schema }))
    try {
      for (let tick = 1; tick <= 5; tick++) {
        const at = T0 + 1000 * tick
        const fire = {
          name: 'nightly',
          expectedNextRunAt: at,
          nextRunAt: at + 1000,
          job: tickJob(at),
          now: at,
        }
        const results = await Promise.all(stores.map((s) => s.fireScheduleTick(fire)))
        expect(results.filter((r) => r !== null)).toHaveLength(1)
      }
      const jobs = await db.store.listJobs({ filter: { scheduleName: 'nightly' }, limit: 100 })
      expect(jobs.map((j) => j.scheduleTick).sort()).toEqual([1, 2, 3, 4, 5].map((t) => T0 + 1000 * t))
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
  })
})
