/**
 * Storage health on a PostgreSQL server: a session that holds the xmin horizon is named, with how
 * to end it, and the `heldHorizon` warning fires once a table of the queue has dead row versions
 * VACUUM cannot remove. The file runs in a database of its own: the horizon of data tables is per
 * database, so sessions of other test files (on the shared server) are never holders here.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { dropDatabase } from '../support/database.js'
import { databaseUrl, describePostgres } from './fixture.js'

const noop = defineJob<{ n: number }>({ kind: 'noop' })

describePostgres('storage health on a server', () => {
  const database = `conveyor_health_${randomBytes(6).toString('hex')}`
  let url = ''
  let pool: pg.Pool
  let queue: PostgresQueue
  const admin = () => new pg.Client({ connectionString: databaseUrl() })

  beforeAll(async () => {
    const client = admin()
    await client.connect()
    await client.query(`CREATE DATABASE ${database}`)
    await client.end()
    const u = new URL(databaseUrl())
    u.pathname = `/${database}`
    url = u.toString()
    pool = new pg.Pool({ connectionString: url, max: 4 })
    queue = createPostgresQueue({
      pool,
      maintenance: { enabled: false },
      scheduler: { enabled: false },
      // Thresholds low enough that the rule decides on the holder alone in this test.
      storageHealth: { horizonWarnAfterMs: 0, deadTuplesWarnAt: 20 },
    })
    await queue.migrate()
    queue.register(noop, async () => {})
  }, 60_000)

  afterAll(async () => {
    await queue?.shutdown({ graceMs: 0 })
    await queue?.store.close()
    await pool?.end()
    const client = admin()
    await client.connect()
    await dropDatabase(client, database)
    await client.end()
  })

  /**
   * Runs VACUUM on the jobs table: it records the dead versions it could not remove. A backend
   * that flushed its statistics less than a second ago holds new counts for up to 10 s; had a pool
   * connection flushed its updates after the VACUUM, they would be added on top of its count (seen
   * in CI: 20 dead after a clean VACUUM). So every connection of the pool (at most 4; checking out
   * four at once takes every idle one) is made to flush first: `pg_stat_force_next_flush()` flushes
   * before the backend reports ready for the next query, so it is done when the call returns.
   */
  async function vacuumJobs(): Promise<void> {
    const clients = await Promise.all(Array.from({ length: 4 }, () => pool.connect()))
    try {
      for (const client of clients) await client.query('SELECT pg_stat_force_next_flush()')
    } finally {
      for (const client of clients) client.release()
    }
    await pool.query('VACUUM conveyor.jobs')
  }

  it('names the session holding the horizon and warns with how to end it, until it ends', async () => {
    const holder = new pg.Client({ connectionString: url, application_name: 'nightly-report' })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT txid_current()')
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      const pid = rows[0]!.pid

      await queue.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ job: noop, payload: { n } })))
      expect((await queue.drain()).total).toBe(20)
      await vacuumJobs()

      const held = (await queue.storageHealth({ maxAgeMs: 0 }))!
      expect(held.database).toBe(database)
      expect(held.schema).toBe('conveyor')
      const session = held.holders.find((h) => h.pid === pid)
      expect(session).toMatchObject({
        kind: 'session',
        name: 'nightly-report',
        state: 'idle in transaction',
        database,
      })
      expect(session!.xminAge).toBeGreaterThan(0)
      expect(session!.transactionStartedAt).not.toBeNull()
      expect(held.oldestTransactionAgeMs).toBeGreaterThanOrEqual(session!.heldMs)
      // Each job's claim and completion left a version VACUUM could not remove under the horizon.
      const jobs = held.tables.find((t) => t.name === 'jobs')!
      expect(jobs.deadTuples).toBeGreaterThanOrEqual(40)
      expect(jobs.lastVacuumAt).not.toBeNull()
      expect(held.warnings).toHaveLength(1)
      const [warning] = held.warnings
      expect(warning).toMatchObject({ rule: 'heldHorizon', table: 'jobs', holder: { pid } })
      expect(warning!.message).toContain(`Session pid ${pid} (application "nightly-report"`)
      expect(warning!.message).toContain('idle in transaction')
      expect(warning!.message).toContain('conveyor.jobs has')
      expect(warning!.message).toContain(`SELECT pg_terminate_backend(${pid});`)

      await holder.query('COMMIT')
      await vacuumJobs()
      const released = (await queue.storageHealth({ maxAgeMs: 0 }))!
      expect(released.holders.find((h) => h.pid === pid)).toBeUndefined()
      expect(released.tables.find((t) => t.name === 'jobs')!.deadTuples).toBe(0)
      expect(released.warnings).toEqual([])
    } finally {
      await holder.end()
    }
  })

  it('counts dead tuples of updates once the statistics are flushed, without a VACUUM', async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const read = async () =>
        (await queue.storageHealth({ maxAgeMs: 0 }))!.tables.find((t) => t.name === 'queues')!
      await client.query(
        `INSERT INTO conveyor.queues (name, paused, updated_at) VALUES ('stats', false, now())`,
      )
      await client.query('SELECT pg_stat_force_next_flush()')
      const before = await read()
      for (let i = 0; i < 5; i++) await client.query(`UPDATE conveyor.queues SET paused = NOT paused`)
      // The next report of this backend's statistics (at the end of this statement) is not delayed.
      await client.query('SELECT pg_stat_force_next_flush()')
      expect((await read()).deadTuples).toBe(before.deadTuples + 5)
    } finally {
      await client.end()
    }
  })
})
