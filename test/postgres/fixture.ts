/**
 * Shared set-up of the PostgreSQL test files: the database (or the reason to skip), one migrated
 * schema per test file, emptied before each test, and a builder of `NewJob`s.
 */
import { randomBytes } from 'node:crypto'
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe } from 'vitest'
import { JOB_TABLE_COLUMN_LIST } from '../../src/adapters/postgres/history-sql.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import type { NewJob } from '../../src/core/ports/store.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { newJobBuilder } from '../support/new-job.js'

/** The start time of test clocks: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1)

const database = await provideDatabase()

/** Why the suites that need a server are skipped, or null when a database server is available. */
export const skipReason: string | null = 'skip' in database ? database.skip : null

/** True when there is no server: `describeStore` suites then run on the embedded PGlite. */
export const onPglite = skipReason !== null

if (skipReason)
  console.warn(
    `[postgres tests] ${skipReason} Suites that need several connections or processes are skipped; single-connection suites run on the embedded PGlite.`,
  )

/**
 * For suites that need a real server (several connections, other processes, a URL): `describe`
 * when one is available, else `describe.skip` (the reason is printed once).
 */
export const describePostgres: typeof describe = (skipReason ? describe.skip : describe) as typeof describe

/** For suites that work on one connection: on the server when there is one, else on PGlite. */
export const describeStore: typeof describe = describe

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
  table(
    name: 'jobs' | 'job_history' | 'queues' | 'schedules' | 'migrations' | 'job_dependants' | 'processes',
  ): string
  /**
   * A view of every job row, unfinished (`jobs`) or finished (`job_history`), for assertions that
   * read jobs in any state (created by the fixture, not by a migration).
   */
  readonly everyJob: string
}

/** Creates and migrates a schema for this file, empties it before each test and drops it at the end. */
export function useStore(): StoreFixture {
  let store: PostgresStore | undefined
  let pool: pg.Pool | undefined
  let testSchema: ReturnType<typeof createTestSchema> | undefined
  let pglite: PGlite | undefined
  beforeAll(async () => {
    if (onPglite) {
      // Loaded only here: runs on a server never load the WebAssembly build.
      const { PGlite } = await import('@electric-sql/pglite')
      const { createPGlitePool } = await import('../../src/adapters/postgres/pglite-pool.js')
      pglite = new PGlite()
      await pglite.waitReady
      pool = createPGlitePool({ pglite })
      // The whole in-memory database goes with the file: nothing to drop.
      testSchema = { schema: `conveyor_test_${randomBytes(6).toString('hex')}`, drop: async () => {} }
    } else {
      testSchema = createTestSchema(databaseUrl())
      pool = new pg.Pool({ connectionString: databaseUrl(), max: 12 })
    }
    store = new PostgresStore({ pool, schema: testSchema.schema })
    await store.migrate()
    const s = quoteIdentifier(testSchema.schema)
    await pool.query(
      `CREATE VIEW ${s}.every_job AS SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${s}.jobs UNION ALL SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${s}.job_history`,
    )
  }, 90_000)
  beforeEach(async () => {
    const s = quoteIdentifier(testSchema!.schema)
    await pool!.query(
      `TRUNCATE ${s}.jobs, ${s}.job_history, ${s}.job_dependants, ${s}.queues, ${s}.schedules RESTART IDENTITY`,
    )
  })
  afterAll(async () => {
    await store?.close()
    await testSchema?.drop()
    await pool?.end()
    await pglite?.close()
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
    get everyJob() {
      return `${quoteIdentifier(testSchema!.schema)}.every_job`
    },
  }
}

/** A plain `pg` pool on the test database for this file (two connections), ended after it. */
export function usePool(): { readonly pool: pg.Pool } {
  let pool: pg.Pool | undefined
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 })
  })
  afterAll(async () => {
    await pool?.end()
  })
  return {
    get pool() {
      return pool!
    },
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
