/**
 * The database clock's sync keeps the reading with the shortest round trip: a first query that
 * waits before it runs (a pool opening its connection) would otherwise put the clock ahead of the
 * database by half that wait, and jobs enqueued "now" would be due only that much later.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { DatabaseClock, type TimeQueryable } from '../../src/adapters/postgres/database-clock.js'

const HOUR = 3_600_000

/** A database an hour ahead of this host whose first query waits `connectMs` before it reads the time. */
function slowFirstQuery(connectMs: number): TimeQueryable & { calls: number } {
  const db = {
    calls: 0,
    async query() {
      db.calls++
      if (db.calls === 1) await sleep(connectMs)
      return { rows: [{ now: performance.timeOrigin + performance.now() + HOUR }] }
    },
  }
  return db
}

it('is not put ahead of the database by a first query that waits to connect', async () => {
  const db = slowFirstQuery(200)
  const clock = new DatabaseClock(db)
  await clock.sync()
  const databaseNow = performance.timeOrigin + performance.now() + HOUR
  // One sample would be about 100 ms ahead (half the wait); the best of several is within a few ms.
  expect(Math.abs(clock.now() - databaseNow)).toBeLessThan(50)
  expect(db.calls).toBeGreaterThan(1)
})
