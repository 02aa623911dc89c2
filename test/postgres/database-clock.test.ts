/**
 * `DatabaseClock`: the time of the database it reads (here a database whose clock is an hour ahead
 * of this host, by rewriting its one statement), carried forward on the monotonic clock, marked real
 * time; a failed reading is reported and tried again on the next `ready()`.
 */
import { expect, it } from 'vitest'
import { DatabaseClock, type TimeQueryable } from '../../src/adapters/postgres/database-clock.js'
import { storeNow } from '../../src/core/ports/clock.js'
import { describePostgres, useStore } from './fixture.js'

const HOUR = 3_600_000
const MINUTE = 60_000

describePostgres('DatabaseClock', () => {
  const db = useStore()
  /** The database, seen through a clock an hour ahead of this host's. */
  const hourAhead = (): TimeQueryable => ({
    query: (text) =>
      db.pool.query(text.replace('clock_timestamp()', "(clock_timestamp() + interval '1 hour')")),
  })

  it("reads the database's time, carries it forward, and makes the core omit now", async () => {
    const clock = new DatabaseClock(hourAhead())
    expect(clock.synced).toBe(false)
    await clock.ready()
    expect(clock.synced).toBe(true)
    const offset = clock.now() - Date.now()
    expect(offset).toBeGreaterThan(HOUR - MINUTE)
    expect(offset).toBeLessThan(HOUR + MINUTE)
    const first = clock.now()
    await db.pool.query('SELECT 1')
    expect(clock.now()).toBeGreaterThanOrEqual(first)
    expect(storeNow(clock)).toBeUndefined()
  })

  it('reports a failed reading, keeps the host time meanwhile, and reads again on the next ready()', async () => {
    const errors: unknown[] = []
    let calls = 0
    const flaky: TimeQueryable = {
      query: (text) => {
        calls++
        if (calls === 1) return Promise.reject(new Error('connection refused'))
        return hourAhead().query(text)
      },
    }
    const clock = new DatabaseClock(flaky, { onError: (e) => errors.push(e) })
    await clock.ready()
    expect(errors).toHaveLength(1)
    expect(clock.synced).toBe(false)
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(MINUTE)
    await clock.ready()
    expect(clock.synced).toBe(true)
    expect(clock.now() - Date.now()).toBeGreaterThan(HOUR - MINUTE)
  })
})
