/** Schedules: `upsertSchedule`, `listSchedules`, `dueSchedules`, `deleteSchedule`, and `fireScheduleTick` firing each tick once. */
import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../../src/core/domain/errors.js'
import type { StoreFactory } from '../factory.js'
import { newJob, scheduleOf, T0, tickJob, useStore } from '../helpers.js'

export default function scheduleCases(factory: StoreFactory): void {
  describe('schedules', () => {
    const store = useStore(factory)
    const only = async () => (await store().listSchedules())[0]

    it('upserts, lists by name, finds due ones and deletes', async () => {
      const input = scheduleOf('nightly', T0 + 1000, { expression: '0 4 * * *', timezone: 'Europe/Paris' })
      expect(await store().upsertSchedule({ schedule: input, now: T0 })).toEqual({
        ...input,
        startAt: null,
        after: null,
        lastTickAt: null,
        lastSuccessAt: null,
        createdAt: T0,
        updatedAt: T0,
      })
      await store().upsertSchedule({ schedule: scheduleOf('a-first', null), now: T0 })
      await store().upsertSchedule({ schedule: scheduleOf('due', T0), now: T0 })
      expect((await store().listSchedules()).map((s) => s.name)).toEqual(['a-first', 'due', 'nightly'])
      expect((await store().dueSchedules({ now: T0 + 999 })).map((s) => s.name)).toEqual(['due'])
      expect((await store().dueSchedules({ now: T0 + 1000 })).map((s) => s.name)).toEqual(['due', 'nightly'])
      expect(await store().deleteSchedule({ name: 'a-first' })).toBe(true)
      expect(await store().deleteSchedule({ name: 'a-first' })).toBe(false)
      expect((await store().listSchedules()).map((s) => s.name)).toEqual(['due', 'nightly'])
    })

    it('keeps tick history and creation time when replaced', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0 + 1000), now: T0 })
      await store().fireScheduleTick({
        name: 's',
        expectedNextRunAt: T0 + 1000,
        nextRunAt: T0 + 2000,
        job: tickJob('s', T0 + 1000),
        now: T0 + 1000,
      })
      const replaced = await store().upsertSchedule({
        schedule: scheduleOf('s', T0 + 5000, { expression: '@hourly' }),
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

    it('fires a tick once: compare-and-set on the next run time, then the tick’s job', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0 + 1000), now: T0 })
      const fire = {
        name: 's',
        expectedNextRunAt: T0 + 1000,
        nextRunAt: T0 + 2000,
        job: tickJob('s', T0 + 1000, { payload: { full: true } }),
        now: T0 + 1000,
      }
      const job = await store().fireScheduleTick(fire)
      expect(job).toMatchObject({
        scheduleName: 's',
        scheduleTick: T0 + 1000,
        state: 'available',
        payload: { full: true },
      })
      expect(await store().fireScheduleTick(fire)).toBeNull()
      expect(await only()).toMatchObject({
        nextRunAt: T0 + 2000,
        lastTickAt: T0 + 1000,
        updatedAt: T0 + 1000,
      })
      expect(await store().listJobs({ filter: {}, limit: 10 })).toEqual([job])
      expect(await store().fireScheduleTick({ ...fire, name: 'missing' })).toBeNull()
    })

    it('inserts no job when the compare-and-set fails, even for a tick never fired (a stale plan)', async () => {
      // Another process moved the schedule on, or it was registered again with a new expression: the
      // caller's plan expected a next run time the schedule no longer has.
      await store().upsertSchedule({ schedule: scheduleOf('s', T0 + 5000), now: T0 })
      const fired = await store().fireScheduleTick({
        name: 's',
        expectedNextRunAt: T0 + 1000,
        nextRunAt: T0 + 2000,
        job: tickJob('s', T0 + 1000),
        now: T0 + 1000,
      })
      expect(fired).toBeNull()
      expect(await only()).toMatchObject({ nextRunAt: T0 + 5000, lastTickAt: null })
      expect(await store().listJobs({ filter: {}, limit: 10 })).toEqual([])
    })

    it('advances without a job when the tick is skipped, keeping lastTickAt', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0), now: T0 })
      const fired = await store().fireScheduleTick({
        name: 's',
        expectedNextRunAt: T0,
        nextRunAt: T0 + 5,
        job: null,
        now: T0,
      })
      expect(fired).toBeNull()
      expect(await only()).toMatchObject({ nextRunAt: T0 + 5, lastTickAt: null })
      expect(await store().listJobs({ filter: {}, limit: 10 })).toEqual([])
    })

    it('advances but inserts no second job for a tick that already has one', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0), now: T0 })
      await store().insertJobs({ jobs: [tickJob('s', T0)], now: T0 })
      const fired = await store().fireScheduleTick({
        name: 's',
        expectedNextRunAt: T0,
        nextRunAt: null,
        job: tickJob('s', T0),
        now: T0,
      })
      expect(fired).toBeNull()
      expect((await only())?.nextRunAt).toBeNull()
      expect(await store().listJobs({ filter: { scheduleName: 's' }, limit: 10 })).toHaveLength(1)
    })

    it('refuses a tick job that depends on a job that does not exist, without advancing', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0), now: T0 })
      const attempt = store().fireScheduleTick({
        name: 's',
        expectedNextRunAt: T0,
        nextRunAt: T0 + 60_000,
        job: tickJob('s', T0, { dependsOn: ['999999'] }),
        now: T0,
      })
      await expect(attempt).rejects.toBeInstanceOf(InvalidOptionsError)
      await expect(attempt).rejects.toThrow(/999999/)
      expect(await only()).toMatchObject({ nextRunAt: T0, lastTickAt: null })
      expect(await store().listJobs({ filter: {}, limit: 10 })).toEqual([])
    })

    it('advances but returns null when the tick’s job is a duplicate by unique key', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0), now: T0 })
      await store().insertJobs({ jobs: [newJob({ uniqueKey: 'one' })], now: T0 })
      const job = tickJob('s', T0, { uniqueKey: 'one' })
      expect(
        await store().fireScheduleTick({ name: 's', expectedNextRunAt: T0, nextRunAt: T0 + 1, job, now: T0 }),
      ).toBeNull()
      expect((await only())?.nextRunAt).toBe(T0 + 1)
      expect(await store().listJobs({ filter: {}, limit: 10 })).toHaveLength(1)
    })

    it('stores startAt and after; keeps the next run time only while they are unchanged', async () => {
      const first = await store().upsertSchedule({
        schedule: scheduleOf('s', T0 + 1000, { startAt: T0 + 1000 }),
        now: T0,
      })
      expect(first).toMatchObject({ startAt: T0 + 1000, after: null, nextRunAt: T0 + 1000 })
      await store().upsertSchedule({ schedule: scheduleOf('s', T0 + 9999, { startAt: T0 + 1000 }), now: T0 })
      expect((await only())?.nextRunAt).toBe(T0 + 1000)
      await store().upsertSchedule({ schedule: scheduleOf('s', T0 + 5000, { startAt: T0 + 5000 }), now: T0 })
      expect(await only()).toMatchObject({ startAt: T0 + 5000, nextRunAt: T0 + 5000 })
      await store().upsertSchedule({
        schedule: scheduleOf('s', null, { startAt: T0 + 5000, after: 'x' }),
        now: T0,
      })
      expect(await only()).toMatchObject({ after: 'x', nextRunAt: null })
    })

    it('lists chained schedules among the due ones, and fires them with a null compare-and-set', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('chained', null, { after: 'other' }), now: T0 })
      await store().upsertSchedule({ schedule: scheduleOf('later', T0 + 1000), now: T0 })
      expect((await store().dueSchedules({ now: T0 })).map((s) => s.name)).toEqual(['chained'])
      const params = {
        name: 'chained',
        expectedNextRunAt: null,
        nextRunAt: null,
        job: tickJob('chained', T0 + 60_000),
        now: T0,
      }
      expect(await store().fireScheduleTick(params)).toMatchObject({ scheduleTick: T0 + 60_000 })
      // The same tick again (another process): nothing inserted; lastTickAt recorded.
      expect(await store().fireScheduleTick(params)).toBeNull()
      expect(await only()).toMatchObject({ name: 'chained', lastTickAt: T0 + 60_000, nextRunAt: null })
      // A stale guard does not fire.
      expect(
        await store().fireScheduleTick({ ...params, expectedNextRunAt: T0, job: tickJob('chained', T0 + 1) }),
      ).toBeNull()
    })
  })
}
