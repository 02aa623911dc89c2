/**
 * A PostgreSQL database for tests, found in this order: `DATABASE_URL`; a server answering on
 * 127.0.0.1:5432 (user `postgres`, database `postgres`); testcontainers' PostgreSQL module when a
 * container runtime is available; else a reason to skip (test/postgres/fixture.ts then runs the
 * single-connection suites on the embedded PGlite). Each test file gets its own schema.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import pg from 'pg'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { waitFor } from './wait.js'

/** A database to test against, and how to let go of it. */
export interface ProvidedDatabase {
  readonly url: string
  readonly kind: 'env' | 'local' | 'container'
  stop(): Promise<void>
}

/** Why the PostgreSQL suites are skipped. */
export interface NoDatabase {
  readonly skip: string
}

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
const SKIP_MESSAGE =
  'No PostgreSQL found: set DATABASE_URL, run a server on 127.0.0.1:5432, or start Docker for testcontainers.'

/** Finds a database for the PostgreSQL tests, or says why there is none. */
export async function provideDatabase(): Promise<ProvidedDatabase | NoDatabase> {
  // Lets a machine with a server run the suites as a machine without one would (on PGlite).
  if (process.env.CONVEYOR_TEST_DATABASE === 'pglite') {
    return { skip: 'CONVEYOR_TEST_DATABASE=pglite: no PostgreSQL server is used.' }
  }
  const fromEnv = process.env.DATABASE_URL
  if (fromEnv) return { url: fromEnv, kind: 'env', stop: async () => {} }
  if (await answers(LOCAL_URL)) return { url: LOCAL_URL, kind: 'local', stop: async () => {} }
  if (hasContainerRuntime()) {
    try {
      // Loaded only here, so machines without Docker never load testcontainers at all.
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
      const container = await new PostgreSqlContainer('postgres:15-alpine').start()
      return {
        url: container.getConnectionUri(),
        kind: 'container',
        stop: async () => void (await container.stop()),
      }
    } catch (error) {
      return { skip: `${SKIP_MESSAGE} (testcontainers failed: ${(error as Error).message})` }
    }
  }
  return { skip: SKIP_MESSAGE }
}

/** True when a server accepts a connection at `url` within about a second. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/** True when a Docker-compatible socket or host is configured. */
function hasContainerRuntime(): boolean {
  if (process.env.DOCKER_HOST || process.env.TESTCONTAINERS_HOST_OVERRIDE) return true
  const home = process.env.HOME ?? ''
  return [
    '/var/run/docker.sock',
    `${home}/.docker/run/docker.sock`,
    `${home}/.colima/default/docker.sock`,
  ].some((p) => existsSync(p))
}

/** A schema of its own for one test file, and how to drop it. */
export interface TestSchema {
  readonly schema: string
  drop(): Promise<void>
}

/** Names a fresh schema (`conveyor_test_<random>`) and returns a function that drops it with its tables. */
export function createTestSchema(url: string, prefix = 'conveyor_test'): TestSchema {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`
  return {
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`)
      } finally {
        await client.end()
      }
    },
  }
}

/**
 * Drops database `name` once its client sessions are gone. `pg.Pool#end()` resolves before its
 * connections have closed, and `DROP DATABASE ... WITH (FORCE)` terminates the ones still closing:
 * their clients, whose pool took its error listener away, throw the termination as an uncaught
 * exception (seen with test files running in parallel). A session still there after the wait (a test
 * that failed and left one behind) is terminated with the drop.
 */
export async function dropDatabase(admin: pg.Pool | pg.ClientBase, name: string): Promise<void> {
  await waitFor(
    async () =>
      (
        await admin.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
          [name],
        )
      ).rowCount === 0,
    { message: `the sessions of database ${name} to close` },
  ).catch(() => {})
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`)
}
