import pg from 'pg'
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { LifecycleError, StorageUnavailableError } from '../../src/core/domain/errors.js'
import type { TransactionHandle } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, T0, useStore } from './fixture.js'

describePostgres('PostgresStore.runInTransaction and completeInTransaction', () => {
  const db = useStore()
  // A store on a one-connection pool: a connection that is not given back makes the next call fail.
  let pool: pg.Pool
  let store: PostgresStore
  const rows = () => `${quoteIdentifier(db.schema)}.tx_rows`
  const names = async () =>
    (await db.pool.query(`SELECT name FROM ${rows()} ORDER BY name`)).rows.map((r) => r.name)
  const write = (tx: TransactionHandle, name: string) =>
    tx.query(`INSERT INTO ${rows()} (name) VALUES ($1)`, [name])

  beforeAll(async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS ${rows()} (name text PRIMARY KEY)`)
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 1, connectionTimeoutMillis: 5000 })
    store = new PostgresStore({ pool, schema: db.schema })
  })
  beforeEach(async () => {
    await db.pool.query(`TRUNCATE ${rows()}`)
  })
  afterAll(async () => {
    await store.close()
    await pool.end()
  })

  it('commits the work of fn when it asks to, and returns its value', async () => {
    const value = await store.runInTransaction(async (tx) => {
      await write(tx, 'a')
      expect(await names()).toEqual([])
      return { commit: true, value: 42 }
    })
    expect(value).toBe(42)
    expect(await names()).toEqual(['a'])
  })

  it('rolls back when fn asks to, and when it throws (rethrowing its error)', async () => {
    expect(
      await store.runInTransaction(async (tx) => {
        await write(tx, 'rolled-back')
        return { commit: false, value: 'kept' }
      }),
    ).toBe('kept')
    const thrown = new Error('handler failed')
    await expect(
      store.runInTransaction(async (tx) => {
        await write(tx, 'thrown')
        throw thrown
      }),
    ).rejects.toBe(thrown)
    expect(await names()).toEqual([])
    // The one connection went back to the pool each time, outside any transaction: the next one's
    // commit does not take the thrown one's write with it.
    expect(await store.runInTransaction(async () => ({ commit: true, value: 'again' }))).toBe('again')
    expect(await names()).toEqual([])
  })

  it('refuses queries on the handle once the transaction has ended', async () => {
    let kept: TransactionHandle | undefined
    await store.runInTransaction(async (tx) => {
      kept = tx
      return { commit: false, value: null }
    })
    await expect(kept!.query(`INSERT INTO ${rows()} (name) VALUES ('late')`)).rejects.toBeInstanceOf(
      LifecycleError,
    )
    expect(await names()).toEqual([])
  })

  it('reports a commit that PostgreSQL turned into a rollback', async () => {
    const attempt = store.runInTransaction(async (tx) => {
      await write(tx, 'lost')
      await tx.query('SELECT 1 / 0').catch(() => undefined)
      return { commit: true, value: null }
    })
    await expect(attempt).rejects.toMatchObject({ code: 'TRANSACTION_ROLLED_BACK' })
    expect(await names()).toEqual([])
  })

  it('gives a clean connection back to the pool after a commit, a rollback and a throw', async () => {
    const pid = async (tx: TransactionHandle) =>
      ((await tx.query('SELECT pg_backend_pid() AS pid')) as pg.QueryResult).rows[0].pid as number
    const first = await store.runInTransaction(async (tx) => ({ commit: true, value: await pid(tx) }))
    expect(await store.runInTransaction(async (tx) => ({ commit: false, value: await pid(tx) }))).toBe(first)
    let seen: number | undefined
    await expect(
      store.runInTransaction(async (tx) => {
        seen = await pid(tx)
        throw new Error('handler failed')
      }),
    ).rejects.toThrow('handler failed')
    expect(seen).toBe(first)
    expect(await store.runInTransaction(async (tx) => ({ commit: true, value: await pid(tx) }))).toBe(first)
  })

  it('says why a late query or a rolled-back commit failed', async () => {
    let kept: TransactionHandle | undefined
    await store.runInTransaction(async (tx) => {
      kept = tx
      return { commit: false, value: null }
    })
    await expect(kept!.query('SELECT 1')).rejects.toThrow(/transaction has already ended/)
    const attempt = store.runInTransaction(async (tx) => {
      await tx.query('SELECT 1 / 0').catch(() => undefined)
      return { commit: true, value: null }
    })
    await expect(attempt).rejects.toThrow(/rolled back at COMMIT/)
  })

  it('reports a connection that breaks during the transaction to onError', async () => {
    const errors: unknown[] = []
    const reporting = new PostgresStore({ pool, schema: db.schema, onError: (e) => errors.push(e) })
    const attempt = reporting.runInTransaction(async (tx) => {
      const { rows: r } = (await tx.query('SELECT pg_backend_pid() AS pid')) as pg.QueryResult
      await db.pool.query('SELECT pg_terminate_backend($1)', [r[0].pid])
      // Idle, the connection hears of it as an 'error' event (during a query, the query would fail instead).
      await waitFor(() => errors.length > 0, { message: 'the broken connection to be reported' })
      await tx.query('SELECT 1')
      return { commit: true, value: null }
    })
    await expect(attempt).rejects.toBeInstanceOf(StorageUnavailableError)
    expect(errors.map((e) => (e as { code?: string }).code)).toContain('57P01')
    await reporting.close()
  })

  it('destroys a connection that broke, so the pool serves the next call on a fresh one', async () => {
    const attempt = store.runInTransaction(async (tx) => {
      const { rows: r } = (await tx.query('SELECT pg_backend_pid() AS pid')) as pg.QueryResult
      await db.pool.query('SELECT pg_terminate_backend($1)', [r[0].pid])
      await write(tx, 'never')
      return { commit: true, value: null }
    })
    await expect(attempt).rejects.toBeInstanceOf(StorageUnavailableError)
    expect(await store.runInTransaction(async () => ({ commit: true, value: 'fresh' }))).toBe('fresh')
    expect(await names()).toEqual([])
  })

  it('completes a job in the transaction: written at commit, only if it still runs that attempt', async () => {
    const [id] = (await insert(store, [{}])) as [string]
    await store.claimJobs(claim())
    const applied = await store.runInTransaction(async (tx) => {
      await write(tx, 'with-job')
      const ok = await store.completeInTransaction({
        completion: { id, outcome: 'succeeded', attempt: 1 },
        now: T0 + 5,
        tx,
      })
      expect((await db.store.getJob({ id }))?.state).toBe('running')
      return { commit: ok, value: ok }
    })
    expect(applied).toBe(true)
    expect(await db.store.getJob({ id })).toMatchObject({ state: 'succeeded', finishedAt: T0 + 5 })
    expect(await names()).toEqual(['with-job'])
  })

  it('returns false for a job that no longer runs that attempt (rescued and claimed again, or cancelled)', async () => {
    const [rescued, cancelled] = (await insert(store, [{}, {}])) as [string, string]
    await store.claimJobs(claim({ workerId: 'dead:w' }))
    await store.rescueJobs({ now: T0 + 20_000, staleAfterMs: 15_000, limit: 1 })
    await store.claimJobs(claim({ now: T0 + 20_000, workerId: 'live:w' }))
    await store.cancelJobs({ filter: { ids: [cancelled] }, now: T0 + 20_000 })
    const results = await store.runInTransaction(async (tx) => {
      const complete = (id: string) =>
        store.completeInTransaction({ completion: { id, outcome: 'succeeded', attempt: 1 }, now: T0, tx })
      return { commit: false, value: [await complete(rescued), await complete(cancelled)] }
    })
    expect(results).toEqual([false, false])
    expect(await db.store.getJob({ id: rescued })).toMatchObject({ state: 'running', attempt: 2 })
  })

  it("completes through a caller's own transaction handle as well", async () => {
    const [id] = (await insert(store, [{}])) as [string]
    await store.claimJobs(claim())
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      const handle: TransactionHandle = { query: (text, values) => client.query(text, values) }
      const completion = { id, outcome: 'succeeded', attempt: 1 } as const
      expect(await store.completeInTransaction({ completion, now: T0, tx: handle })).toBe(true)
      expect(await store.completeInTransaction({ completion, now: T0, tx: handle })).toBe(false)
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    expect((await db.store.getJob({ id }))?.state).toBe('running')
  })
})
