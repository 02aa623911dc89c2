/**
 * A connection dropped while the schedule service holds it (mid-transaction of a tick) must fail
 * that pass with a typed error, not crash the process: `pg` emits 'error' on a checked-out client
 * that nobody listens to, which Node turns into an uncaught exception. Found by db-faults.test.ts
 * (an unhandled "Connection terminated unexpectedly" after pg_terminate_backend); pinned here
 * deterministically: the tick's statement on the schedule row waits on a row lock the test holds, and the test terminates
 * that backend.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { StorageUnavailableError } from '../../src/core/domain/errors.js'
import { databaseUrl, describePostgres, newJob, T0, useStore } from '../postgres/fixture.js'
import { waitFor } from '../support/wait.js'

describePostgres('a schedule tick whose connection is terminated', () => {
  const db = useStore()

  it('fails the tick with STORAGE_UNAVAILABLE, leaves the schedule to fire later, and does not crash', async () => {
    const schedule = {
      name: 'locked',
      expression: '@every 1s',
      timezone: null,
      kind: 'test',
      payload: {},
      jobTemplate: (({ kind: _k, payload: _p, runAt: _r, scheduleName: _s, scheduleTick: _t, ...rest }) =>
        rest)(newJob()),
      nextRunAt: T0 + 1000,
      missedPolicy: 'runOnce' as const,
    }
    await db.store.upsertSchedule({ schedule, now: T0 })
    const holder = new pg.Client({ connectionString: databaseUrl() })
    await holder.connect()
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', onUncaught)
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM ${db.table('schedules')} WHERE name = 'locked' FOR UPDATE`)
      const fire = db.store
        .fireScheduleTick({
          name: 'locked',
          expectedNextRunAt: T0 + 1000,
          nextRunAt: T0 + 2000,
          job: newJob({ scheduleName: 'locked', scheduleTick: T0 + 1000, runAt: T0 + 1000 }),
          now: T0 + 1000,
        })
        .then(
          () => null,
          (error: unknown) => error,
        )
      const blocked = await waitFor(
        async () =>
          // Only the session this holder blocks: other test files' sessions wait on schedules too.
          (
            await db.pool.query(
              `SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`,
              [(holder as unknown as { processID: number }).processID],
            )
          ).rows[0]?.pid as number | undefined,
        { message: 'the tick to wait on the row lock' },
      )
      await db.pool.query('SELECT pg_terminate_backend($1)', [blocked])
      const error = await fire
      expect(error).toBeInstanceOf(StorageUnavailableError)
      await holder.query('ROLLBACK')
      // Nothing was written; the tick fires normally on the next pass.
      const job = await db.store.fireScheduleTick({
        name: 'locked',
        expectedNextRunAt: T0 + 1000,
        nextRunAt: T0 + 2000,
        job: newJob({ scheduleName: 'locked', scheduleTick: T0 + 1000, runAt: T0 + 1000 }),
        now: T0 + 1100,
      })
      expect(job?.scheduleTick).toBe(T0 + 1000)
      // Give a late 'error' event its chance to surface before checking.
      await new Promise((resolve) => setImmediate(resolve))
      expect(uncaught).toEqual([])
    } finally {
      process.off('uncaughtException', onUncaught)
      await holder.end()
    }
  })
})
