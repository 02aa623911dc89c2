import { expect, it } from 'vitest'
import { waitFor } from '../support/wait.js'
import { describePostgres, insert, T0, useStore } from './fixture.js'

// updateJob's rules are in the store-level suite (test/store/cases/job-admin.ts); this is its row lock against a claim.
describePostgres('PostgresStore.updateJob', () => {
  const db = useStore()
  it('a claim committed while the update waits for the row wins: the update writes nothing', async () => {
    const [a] = await insert(db.store, [{ runAt: T0 + 60_000 }])
    const claimer = await db.pool.connect()
    try {
      // A claim in progress, as the claim statement writes it: the ready row deleted, the job row
      // running and its running row inserted, all locked in that transaction.
      await claimer.query('BEGIN')
      await claimer.query(`DELETE FROM ${db.table('job_ready')} WHERE id = $1`, [a])
      await claimer.query(
        `UPDATE ${db.table('jobs')} SET state = 'running', attempt = 1, attempted_at = now(), attempted_by = 'w' WHERE id = $1`,
        [a],
      )
      await claimer.query(
        `INSERT INTO ${db.table('job_running')} (id, attempt, attempted_at, attempted_by, timeout_ms)
         VALUES ($1, 1, now(), 'w', 0)`,
        [a],
      )
      const update = db.store.updateJob({ id: a!, changes: { runAt: T0, priority: 5 }, now: T0 })
      await waitFor(async () => {
        const { rows } = await db.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
           WHERE NOT l.granted AND s.query LIKE '%' || $1 || '.job%'`,
          [db.table('jobs').split('.')[0]],
        )
        return rows[0]!.waiting > 0
      })
      await claimer.query('COMMIT')
      expect(await update).toEqual({ status: 'notWaiting', state: 'running' })
    } finally {
      claimer.release()
    }
    expect(await db.store.getJob({ id: a! })).toMatchObject({
      state: 'running',
      attempt: 1,
      priority: 0,
      runAt: T0 + 60_000,
    })
  })
})
