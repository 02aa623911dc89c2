/**
 * Shared set-up of the PostgreSQL test files: the database (or the reason to skip), one migrated
 * schema per test file, emptied before each test, and a builder of `NewJob`s.
 */
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import type { NewJob } from '../../src/core/store.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { newJobBuilder } from '../support/new-job.js'

/** The start time of test clocks: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1)

const database = await provideDatabase()

/** Why these tests are skipped, or null when a database is available. */
export const skipReason: string | null = 'skip' in database ? database.skip : null

if (skipReason) console.warn(`[postgres tests skipped] ${skipReason}`)

/** `describe` when a database is available, else `describe.skip` (the reason is printed once). */
export const describePostgres: typeof describe = (skipReason ? describe.skip : describe) as typeof describe

/** The database URL (only call it inside a `describePostgres` block). */
export function databaseUrl(): string {
  if ('skip' in database) throw new Error(database.skip)
  return database.url
}

/** What a test gets: a migrated store on its own schema, and a pool on the same database. */
export interface StoreFixture {
  readonly store: PostgresStore
  readonly pool: pg.Pool
  readonly schema: string
  /** `"schema".table`, for assertions in SQL. */
  table(name: 'jobs' | 'queues' | 'schedules' | 'migrations'): string
}

/** Creates and migrates a schema for this file, empties it before each test and drops it at the end. */
export function useStore(): StoreFixture {
  let store: PostgresStore | undefined
  let pool: pg.Pool | undefined
  let testSchema: ReturnType<typeof createTestSchema> | undefined
  beforeAll(async () => {
    testSchema = createTestSchema(databaseUrl())
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 12 })
    store = new PostgresStore({ pool, schema: testSchema.schema })
    await store.migrate()
  })
  beforeEach(async () => {
    const s = quoteIdentifier(testSchema!.schema)
    await pool!.query(`TRUNCATE ${s}.jobs, ${s}.queues, ${s}.schedules RESTART IDENTITY`)
  })
  afterAll(async () => {
    await store?.close()
    await testSchema?.drop()
    await pool?.end()
  })
  return {
    get store() {
      return store!
    },
    get pool() {
      return pool!
    },
    get schema() {
      return testSchema!.schema
    },
    table: (name) => `${quoteIdentifier(testSchema!.schema)}.${name}`,
  }
}

/** A job to insert with the core's defaults, available at `T0`, overridden by `fields`. */
export const newJob = newJobBuilder({ runAt: T0 })

/** Claim parameters for the `default` queue and kind `test`, overridden by `fields`. */
export function claim(
  fields: Partial<Parameters<PostgresStore['claimJobs']>[0]> = {},
): Parameters<PostgresStore['claimJobs']>[0] {
  return {
    queues: ['default'],
    kinds: ['test'],
    capacity: 10,
    strategy: 'priority',
    now: T0,
    workerId: 'worker-1',
    ...fields,
  }
}

/** Inserts jobs and returns their ids, in order. */
export async function insert(store: PostgresStore, jobs: Partial<NewJob>[], now = T0): Promise<string[]> {
  const outcomes = await store.insertJobs({ jobs: jobs.map(newJob), now })
  return outcomes.map((o) => o.job.id)
}
