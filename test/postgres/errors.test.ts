import { createServer } from 'node:net'
import pg from 'pg'
import { expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import {
  InvalidArgumentError,
  InvalidOptionsError,
  LifecycleError,
  StorageInconsistentError,
  StorageUnavailableError,
} from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { claim, databaseUrl, describePostgres, newJob, T0, useStore } from './fixture.js'

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describePostgres('faults and bad input', () => {
  const db = useStore()

  it('reports a database that is down as StorageUnavailableError, for every kind of call', async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`
    const store = new PostgresStore({ connectionString: url, schema: 'conveyor' })
    try {
      await expect(store.insertJobs({ jobs: [newJob()], now: T0 })).rejects.toBeInstanceOf(
        StorageUnavailableError,
      )
      await expect(store.claimJobs(claim())).rejects.toBeInstanceOf(StorageUnavailableError)
      await expect(store.migrate()).rejects.toBeInstanceOf(StorageUnavailableError)
      await expect(store.pendingMigrations()).rejects.toBeInstanceOf(StorageUnavailableError)
      await expect(
        store.fireScheduleTick({ name: 'x', expectedNextRunAt: T0, nextRunAt: null, job: null, now: T0 }),
      ).rejects.toBeInstanceOf(StorageUnavailableError)
      await expect(store.getJob({ id: '1' })).rejects.toThrow(/unavailable/i)
    } finally {
      await store.close()
      await store.close()
    }
  })

  it('refuses a queue used after shutdown with LifecycleError, not blaming the database (its own pool has ended)', async () => {
    const task = defineJob({ kind: 'after-shutdown' })
    const queue = createPostgresQueue({ connectionString: databaseUrl(), schema: db.schema })
    await queue.enqueue(task, {})
    await queue.shutdown()
    for (const [name, call] of [
      ['enqueue', () => queue.enqueue(task, {})],
      ['listJobs', () => queue.listJobs({})],
      ['migrate', () => queue.migrate()],
      ['pendingMigrations', () => queue.pendingMigrations()],
    ] as const) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      )
      expect(error, name).toBeInstanceOf(LifecycleError)
      expect((error as Error).message).toContain(`${name}(): this queue was shut down`)
    }
  })

  it('reports a pool the application passed whose server is down', async () => {
    const pool = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`,
    })
    const store = new PostgresStore({ pool })
    await expect(store.queueStats()).rejects.toBeInstanceOf(StorageUnavailableError)
    await store.close()
    await pool.end()
  })

  it('reports a connection terminated mid-transaction as StorageUnavailableError and stays usable', async () => {
    const client = await db.pool.connect()
    client.on('error', () => {})
    try {
      await client.query('BEGIN')
      await db.pool.query('SELECT pg_terminate_backend($1)', [
        (client as unknown as { processID: number }).processID,
      ])
      await expect(db.store.insertJobs({ jobs: [newJob()], now: T0, tx: client })).rejects.toBeInstanceOf(
        StorageUnavailableError,
      )
    } finally {
      client.release(true)
    }
    expect(await db.store.insertJobs({ jobs: [newJob()], now: T0 })).toHaveLength(1)
  })

  it('reports a jobs id sequence behind the ids in the table (a restore without it) with the fix, and inserts nothing', async () => {
    const s = quoteIdentifier(db.schema)
    // Ids 1..100 taken explicitly (a restore): the sequence still hands out 1 next.
    await db.pool.query(
      `INSERT INTO ${s}.jobs (id, kind, queue, state, payload, run_at, created_at, max_attempts, finished_at)
       SELECT g, 'restored', 'default', 'succeeded', '{}', now(), now(), 1, now() FROM generate_series(1, 100) g`,
    )
    for (const jobs of [[newJob()], [newJob(), newJob()], [newJob({ uniqueKey: 'k' })]]) {
      const attempt = db.store.insertJobs({ jobs, now: T0 })
      await expect(attempt).rejects.toBeInstanceOf(StorageInconsistentError)
      await expect(attempt).rejects.toThrow(/jobs_id_seq.*setval|setval.*jobs_id_seq/s)
    }
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${s}.jobs`)
    expect(rows[0].n).toBe(100)
    const message = await db.store.insertJobs({ jobs: [newJob()], now: T0 }).then(
      () => 'inserted',
      (e: Error) => e.message,
    )
    const fix = /(SELECT setval\(.*\);)/.exec(message)?.[1]
    expect(fix, message).toBeDefined()
    await db.pool.query(fix!)
    const [inserted] = await db.store.insertJobs({ jobs: [newJob()], now: T0 })
    expect(Number(inserted!.job.id)).toBeGreaterThan(100)
  })

  it('rejects missing or wrong connection options', () => {
    expect(() => new PostgresStore({})).toThrow(InvalidArgumentError)
    expect(() => new PostgresStore({ pool: {} as pg.Pool })).toThrow(InvalidArgumentError)
    expect(() => new PostgresStore(undefined as never)).toThrow(InvalidArgumentError)
  })

  it('owns and closes a pool made from a connection string', async () => {
    const store = new PostgresStore({ connectionString: databaseUrl(), schema: db.schema })
    expect(await store.insertJobs({ jobs: [newJob()], now: T0 })).toHaveLength(1)
    await store.close()
    expect(store.pool.ended).toBe(true)
  })

  it('rejects ids that are not job ids without touching the database', async () => {
    expect(await db.store.getJob({ id: 'abc' })).toBeNull()
    await expect(
      db.store.insertJobs({ jobs: [newJob({ dependsOn: ['x1'] })], now: T0 }),
    ).rejects.toBeInstanceOf(InvalidOptionsError)
    await expect(db.store.listJobs({ filter: {}, limit: 5, beforeId: '12; drop' })).rejects.toThrow(
      /beforeId/,
    )
    await expect(db.store.claimJobs(claim({ maxId: 'nope' }))).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})
