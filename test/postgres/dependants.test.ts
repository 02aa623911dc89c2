/**
 * `job_dependants` (migration 012, dependants.ts): one row per waiting dependant and unfinished
 * dependency, written by the insert, deleted by the dependency's finish whatever its outcome, swept
 * when left behind, and filled by the migration for the dependants already there.
 * (That the rows wake claim loops is tested in claim-cursor-notify.test.ts.)
 */
import { expect, it } from 'vitest'
import {
  ANALYZE_AFTER_CHANGES,
  DependantsSweep,
  SWEEP_BATCH,
  SWEEP_INTERVAL_MS,
} from '../../src/adapters/postgres/dependants.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { claim, describePostgres, insert, T0, useStore } from './fixture.js'

const error = { attempt: 1, at: T0, name: 'Error', message: 'x' }

describePostgres('job_dependants: who waits for whom', () => {
  const db = useStore()
  const edges = async () =>
    (
      await db.pool.query<{ dependency: string; dependant: string }>(
        `SELECT dependency_id::text AS dependency, dependant_id::text AS dependant FROM ${db.table('job_dependants')}
         ORDER BY dependency_id, dependant_id`,
      )
    ).rows.map((r) => `${r.dependency}->${r.dependant}`)
  /** Claims the jobs of kind `test` (capacity `n`). */
  const take = (n = 10) => db.store.claimJobs(claim({ capacity: n }))

  it('an enqueued dependant gets one row per unfinished dependency', async () => {
    const [done, failed] = await insert(db.store, [{}, {}])
    await take()
    await db.store.completeJobs({
      completions: [
        { id: done!, outcome: 'succeeded' },
        { id: failed!, outcome: 'failed', error },
      ],
      now: T0,
    })
    const [a, b] = await insert(db.store, [{ kind: 'other' }, { kind: 'other' }])
    const [waiting, later, doomed] = await insert(db.store, [
      { dependsOn: [a!, b!, done!, a!] },
      { dependsOn: [b!], runAt: T0 + 60_000 },
      { dependsOn: [a!, failed!] },
    ])
    expect((await db.store.getJob({ id: doomed! }))?.state).toBe('cancelled')
    expect(await edges()).toEqual([`${a}->${waiting}`, `${b}->${waiting}`, `${b}->${later}`])
  })

  it("a dependency's finish deletes its rows, whatever the outcome and whichever statement", async () => {
    const [ok, okAny, retried, failed, cancelled, deleted] = await insert(db.store, [
      {},
      {},
      {},
      {},
      {},
      { kind: 'other' },
    ])
    const dependants = await insert(
      db.store,
      [ok, okAny, retried, failed, cancelled, deleted].map((id) => ({ kind: 'later', dependsOn: [id!] })),
    )
    // Dependants of dependants: cancelled with the failed and the cancelled jobs' dependants, their rows go too.
    const grandchildren = await insert(db.store, [
      { kind: 'later', dependsOn: [dependants[3]!] },
      { kind: 'later', dependsOn: [dependants[4]!] },
    ])
    expect(await edges()).toHaveLength(8)
    await take()
    await db.store.completeJobs({ completions: [{ id: ok!, outcome: 'succeeded' }], now: T0 })
    await db.store.completeJobs({
      completions: [
        { id: okAny!, outcome: 'succeeded' },
        { id: retried!, outcome: 'retry', runAt: T0 + 60_000, error },
        { id: failed!, outcome: 'failed', error },
      ],
      now: T0,
    })
    await db.store.cancelJobs({ filter: { ids: [cancelled!] }, now: T0 })
    await db.store.deleteJobs({ filter: { ids: [deleted!] } })
    // Only the retried job's row stays: it has not finished.
    expect(await edges()).toEqual([`${retried}->${dependants[2]}`])
    for (const id of grandchildren) expect((await db.store.getJob({ id }))?.state).toBe('cancelled')
  })

  it('the rescue pass sweeps rows whose dependency or dependant is gone, a batch at a time', async () => {
    const [a] = await insert(db.store, [{ kind: 'other' }])
    const [d] = await insert(db.store, [{ dependsOn: [a!] }])
    // Left behind: a dependency that finished while its dependant's insert committed; a dependant deleted.
    await db.pool.query(`INSERT INTO ${db.table('job_dependants')} VALUES (900000001, $1), ($2, 900000002)`, [
      d,
      a,
    ])
    const fresh = new PostgresStore({ pool: db.pool, schema: db.schema })
    try {
      await fresh.rescueJobs({ now: T0, staleAfterMs: 60_000, limit: 10 })
    } finally {
      await fresh.close()
    }
    expect(await edges()).toEqual([`${a}->${d}`])

    // More than a batch: each sweep reads one batch from where the last ended, at most once a minute.
    await db.pool.query(
      `INSERT INTO ${db.table('job_dependants')} SELECT 800000000 + g, $1 FROM generate_series(1, $2::int) g`,
      [d, SWEEP_BATCH + 10],
    )
    let now = 0
    const sweep = new DependantsSweep(sqlNames(db.schema), () => now)
    // The first batch holds the live row (the smallest key) and SWEEP_BATCH - 1 of the others.
    expect(await sweep.sweep(db.pool)).toBe(SWEEP_BATCH - 1)
    expect(await sweep.sweep(db.pool)).toBe(0)
    now += SWEEP_INTERVAL_MS
    expect(await sweep.sweep(db.pool)).toBe(11)
    now += SWEEP_INTERVAL_MS
    expect(await sweep.sweep(db.pool)).toBe(0)
    expect(await edges()).toEqual([`${a}->${d}`])
  })

  it('the sweep skips rows another transaction holds, and analyzes the table once it has changed a lot', async () => {
    const [a] = await insert(db.store, [{ kind: 'other' }])
    const [d] = await insert(db.store, [{ dependsOn: [a!] }])
    await db.pool.query(`DELETE FROM ${db.table('jobs')} WHERE id = $1`, [d])
    const holder = await db.pool.connect()
    try {
      // A completion in a job's own transaction, not committed yet, deleted this row.
      await holder.query('BEGIN')
      await holder.query(`DELETE FROM ${db.table('job_dependants')} WHERE dependant_id = $1`, [d])
      expect(await new DependantsSweep(sqlNames(db.schema)).sweep(db.pool)).toBe(0)
      await holder.query('ROLLBACK')
      const rows = () =>
        holder.query<{ rows: number }>(
          `SELECT reltuples::int AS rows FROM pg_class WHERE oid = to_regclass($1)`,
          [db.table('job_dependants')],
        )
      await holder.query(`ANALYZE ${db.table('job_dependants')}`)
      expect((await rows()).rows[0]!.rows).toBeLessThan(10)
      await holder.query(
        `INSERT INTO ${db.table('job_dependants')} SELECT $1::bigint, 700000000 + g FROM generate_series(1, $2::int) g`,
        [a, ANALYZE_AFTER_CHANGES + 500],
      )
      await holder.query('SELECT pg_stat_force_next_flush()')
      await new DependantsSweep(sqlNames(db.schema)).sweep(db.pool)
      expect((await rows()).rows[0]!.rows).toBeGreaterThan(ANALYZE_AFTER_CHANGES)
    } finally {
      holder.release()
    }
  })

  it('migration 012 writes the rows of the dependants already waiting', async () => {
    const [a, b] = await insert(db.store, [{ kind: 'other' }, { kind: 'other' }])
    const [done] = await insert(db.store, [{}])
    await take()
    await db.store.completeJobs({ completions: [{ id: done!, outcome: 'succeeded' }], now: T0 })
    const [d1, d2] = await insert(db.store, [
      { dependsOn: [a!, done!] },
      { dependsOn: [a!, b!], kind: 'later' },
    ])
    await db.store.pauseJobs({ filter: { ids: [d2!] }, now: T0 })
    const expected = await edges()
    expect(expected).toEqual([`${a}->${d1}`, `${a}->${d2}`, `${b}->${d2}`])
    // Back to a schema of 011 with the same jobs, then forward again.
    await db.pool.query(`DROP TABLE ${db.table('job_dependants')}`)
    await db.pool.query(`DELETE FROM ${db.table('migrations')} WHERE version = 12`)
    expect((await migrate(db.pool, sqlNames(db.schema))).applied).toEqual(['012_job_dependants'])
    expect(await edges()).toEqual(expected)
  })
})
