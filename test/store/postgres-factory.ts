/**
 * The store-level suite's factory on PostgreSQL: one migrated schema per test file on `pool` (a
 * server's, or PGlite's single connection), emptied for each test (ids restart at "1").
 */
import type pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import type { StoreFactory } from './factory.js'

/** What the factory needs: a pool, a fresh schema name, and how to let go of both after the file. */
export interface PostgresTarget {
  readonly pool: pg.Pool
  readonly schema: string
  release(): Promise<void>
}

/** A factory of empty `PostgresStore`s on the target `open()` returns (opened once per file). */
export function postgresStoreFactory(name: string, open: () => Promise<PostgresTarget>): StoreFactory {
  let target: PostgresTarget | undefined
  let store: PostgresStore | undefined
  beforeAll(async () => {
    target = await open()
    store = new PostgresStore({ pool: target.pool, schema: target.schema })
    await store.migrate()
  }, 90_000)
  afterAll(async () => {
    await store?.close()
    await target?.release()
  })
  return {
    name,
    capabilities: {
      multiProcess: true,
      transactionalEnqueue: true,
      transactionalExecution: true,
      storageHealth: true,
      announcesFreedJobs: true,
    },
    async createStore() {
      if (!store || !target) throw new Error('the PostgreSQL target is not open')
      const s = quoteIdentifier(target.schema)
      await target.pool.query(
        `TRUNCATE ${s}.jobs, ${s}.job_history, ${s}.job_dependants, ${s}.queues, ${s}.schedules, ${s}.processes RESTART IDENTITY`,
      )
      return store
    },
  }
}
