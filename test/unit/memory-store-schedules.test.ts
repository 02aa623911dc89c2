import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { NewJob, ScheduleRecord, UpsertScheduleParams } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

function schedule(
  name: string,
  nextRunAt: number | null,
  expression = '@every 1 minute',
): UpsertScheduleParams['schedule'] {
  const { kind, payload, runAt, scheduleName, scheduleTick, ...jobTemplate } = newJob()
  return {
    name,
    expression,
    timezone: null,
    kind,
    payload: { from: name },
    jobTemplate,
    nextRunAt,
    missedPolicy: 'runOnce',
  }
}

const tickJob = (name: string, tick: number): NewJob =>
  newJob({ scheduleName: name, scheduleTick: tick, runAt: tick })

describe('MemoryStore schedules', () => {
  it('upserts by name, keeping tick history and creation time, and lists by name', async () => {
    const store = new MemoryStore()
    const created = await store.upsertSchedule({ schedule: schedule('b', NOW), now: NOW })
    expect(created).toMatchObject({
      name: 'b',
      lastTickAt: null,
      lastSuccessAt: null,
      createdAt: NOW,
      updatedAt: NOW,
    })
    await store.fireScheduleTick({
      name: 'b',
      expectedNextRunAt: NOW,
      nextRunAt: NOW + 60_000,
      job: tickJob('b', NOW),
      now: NOW,
    })
    await store.upsertSchedule({ schedule: schedule('a', NOW), now: NOW })
    const replaced = await store.upsertSchedule({ schedule: schedule('b', NOW + 5, '@hourly'), now: NOW + 1 })
    expect(replaced).toMatchObject({
      expression: '@hourly',
      nextRunAt: NOW + 5,
      lastTickAt: NOW,
      createdAt: NOW,
      updatedAt: NOW + 1,
    })
    expect((await store.listSchedules()).map((s) => s.name)).toEqual(['a', 'b'])
    expect(await store.deleteSchedule({ name: 'a' })).toBe(true)
    expect(await store.deleteSchedule({ name: 'a' })).toBe(false)
  })

  it('returns frozen schedules that callers cannot change', async () => {
    const store = new MemoryStore()
    const input = schedule('s', NOW)
    const stored = await store.upsertSchedule({ schedule: input, now: NOW })
    ;(input.payload as { from: string }).from = 'changed'
    expect(() => {
      ;(stored as { nextRunAt: number | null }).nextRunAt = 0
    }).toThrow(TypeError)
    expect((await store.listSchedules())[0]?.payload).toEqual({ from: 's' })
  })

  it('dueSchedules returns schedules whose next tick is at or before now', async () => {
    const store = new MemoryStore()
    await store.upsertSchedule({ schedule: schedule('late', NOW + 1), now: NOW })
    await store.upsertSchedule({ schedule: schedule('due', NOW), now: NOW })
    await store.upsertSchedule({ schedule: schedule('done', null), now: NOW })
    expect((await store.dueSchedules({ now: NOW })).map((s) => s.name)).toEqual(['due'])
    expect((await store.dueSchedules({ now: NOW + 1 })).map((s) => s.name)).toEqual(['due', 'late'])
  })

  it('fires a tick once: compare-and-set on nextRunAt, then insert the tick’s job', async () => {
    const store = new MemoryStore()
    await store.upsertSchedule({ schedule: schedule('s', NOW), now: NOW })
    const fire = {
      name: 's',
      expectedNextRunAt: NOW,
      nextRunAt: NOW + 60_000,
      job: tickJob('s', NOW),
      now: NOW,
    }
    const job = await store.fireScheduleTick(fire)
    expect(job).toMatchObject({ id: '1', scheduleName: 's', scheduleTick: NOW, state: 'available' })
    expect(await store.fireScheduleTick(fire)).toBeNull()
    expect((await store.listSchedules())[0]).toMatchObject({
      nextRunAt: NOW + 60_000,
      lastTickAt: NOW,
      updatedAt: NOW,
    })
    expect(store.allJobs()).toHaveLength(1)
    expect(await store.fireScheduleTick({ ...fire, name: 'missing' })).toBeNull()
  })

  it('does not insert a second job for a tick that already has one, but still advances', async () => {
    const store = new MemoryStore()
    await store.upsertSchedule({ schedule: schedule('s', NOW), now: NOW })
    await store.insertJobs({ jobs: [tickJob('s', NOW)], now: NOW })
    const fired = await store.fireScheduleTick({
      name: 's',
      expectedNextRunAt: NOW,
      nextRunAt: null,
      job: tickJob('s', NOW),
      now: NOW,
    })
    expect(fired).toBeNull()
    expect((await store.listSchedules())[0]?.nextRunAt).toBeNull()
    expect(store.allJobs()).toHaveLength(1)
  })

  it('advances without a job when the tick is skipped, keeping lastTickAt', async () => {
    const store = new MemoryStore()
    await store.upsertSchedule({ schedule: schedule('s', NOW), now: NOW })
    const fired = await store.fireScheduleTick({
      name: 's',
      expectedNextRunAt: NOW,
      nextRunAt: NOW + 5,
      job: null,
      now: NOW,
    })
    expect(fired).toBeNull()
    const [s] = (await store.listSchedules()) as [ScheduleRecord]
    expect([s.nextRunAt, s.lastTickAt]).toEqual([NOW + 5, null])
  })

  it('returns null when the tick’s job is a duplicate by unique key', async () => {
    const store = new MemoryStore()
    await store.upsertSchedule({ schedule: schedule('s', NOW), now: NOW })
    await store.insertJobs({ jobs: [newJob({ uniqueKey: 'one' })], now: NOW })
    const job = { ...tickJob('s', NOW), uniqueKey: 'one' }
    expect(
      await store.fireScheduleTick({ name: 's', expectedNextRunAt: NOW, nextRunAt: NOW + 1, job, now: NOW }),
    ).toBeNull()
    expect((await store.listSchedules())[0]?.nextRunAt).toBe(NOW + 1)
  })

  it('reset drops schedules too', async () => {
    const store = new MemoryStore()
    await store.upsertSchedule({ schedule: schedule('s', NOW), now: NOW })
    store.reset()
    expect(await store.listSchedules()).toEqual([])
  })
})
