/**
 * The `pg` pool on PGlite that the demo runs on: one session shared safely by successive clients,
 * LISTEN/NOTIFY through a dedicated client, and the whole adapter conformance suite on top of it.
 */
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { createPGlitePool } from '../../src/adapters/postgres/pglite-pool.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { runConformance } from '../conformance/index.js'
import { postgresHarnessFactory } from '../conformance/postgres-harness.js'
import { waitFor } from '../support/wait.js'

describe('createPGlitePool', { timeout: 60_000 }, () => {
  let pglite: PGlite
  let pool: pg.Pool
  let schemas = 0
  beforeAll(async () => {
    pglite = new PGlite()
    await pglite.waitReady
    pool = createPGlitePool({ pglite })
  }, 90_000)
  afterAll(async () => {
    await pool?.end()
    await pglite?.close()
  })

  /** Takes the pool's one client, runs `work`, and makes the pool drop it (as after an error). */
  const dropClientAfter = async (work: (client: pg.PoolClient) => Promise<unknown>) => {
    const client = await pool.connect()
    await work(client)
    client.release(new Error('dropped on purpose'))
  }

  it('has one client, and keeps working after a query error ends it', async () => {
    expect(pool.options.max).toBe(1)
    await expect(pool.query('SELECT 1/0')).rejects.toThrow('division by zero')
    expect((await pool.query('SELECT 41 + 1 AS answer')).rows).toEqual([{ answer: 42 }])
  })

  it('gives the next client a clean session: no open transaction, statements or advisory locks', async () => {
    await dropClientAfter(async (client) => {
      await client.query({ name: 'answer', text: 'SELECT 42 AS answer' })
      await client.query('SELECT pg_advisory_lock(7)')
      await client.query('BEGIN')
      await client.query('CREATE TABLE left_behind (a int)')
    })
    const client = await pool.connect() // the new client resets the session as it connects
    try {
      expect(pglite.isInTransaction()).toBe(false)
      expect((await client.query(`SELECT to_regclass('left_behind') AS t`)).rows).toEqual([{ t: null }])
      const locks = await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)
      expect(locks.rows).toEqual([{ n: 0 }])
      // The same statement name again: it would fail with "already exists" without the reset.
      expect((await client.query({ name: 'answer', text: 'SELECT 42 AS answer' })).rows).toEqual([
        { answer: 42 },
      ])
    } finally {
      client.release()
    }
  })

  it('delivers notifications to a dedicated client made from pool.options', async () => {
    const listener = new pg.Client(pool.options)
    const received: { channel: string; payload?: string }[] = []
    listener.on('notification', (m) => received.push({ channel: m.channel, payload: m.payload }))
    await listener.connect()
    try {
      await listener.query('LISTEN "Jobs"; LISTEN plain_Name')
      await pool.query(
        `SELECT pg_notify('Jobs', 'one'), pg_notify('plain_name', 'two'), pg_notify('other', 'x')`,
      )
      await waitFor(() => received.length >= 2, { timeoutMs: 5000 })
      expect(received).toEqual([
        { channel: 'Jobs', payload: 'one' },
        { channel: 'plain_name', payload: 'two' },
      ])
      await listener.query('UNLISTEN *')
      await expect(listener.query('SELECT 1')).rejects.toThrow('only runs LISTEN and UNLISTEN')
    } finally {
      await listener.end()
    }
  })

  it('wakes a queue through LISTEN/NOTIFY rather than its poll interval', async () => {
    const queue = createPostgresQueue({ pool, schema: 'wake_test', pollIntervalMs: 60_000 })
    await queue.migrate()
    const ping = defineJob<{ n: number }>({ kind: 'ping' })
    const done = new Promise<number>((resolve) => queue.register(ping, ({ n }) => resolve(n)))
    await queue.start()
    try {
      await queue.store.whenListening()
      await queue.enqueue(ping, { n: 7 })
      expect(await done).toBe(7) // well within the test's timeout, far below the 60 s poll
    } finally {
      await queue.shutdown()
    }
  })

  describe('conformance: postgres on PGlite', () => {
    // Each harness gets a schema of its own in the one embedded database, dropped on close.
    const factory = postgresHarnessFactory(
      () => pool,
      () => {
        const schema = `conformance_${++schemas}`
        return { schema, drop: async () => void (await pool.query(`DROP SCHEMA ${schema} CASCADE`)) }
      },
    )
    runConformance(factory)
  })
})
