import { randomBytes } from 'node:crypto'
import type { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { afterAll, beforeAll, describe } from 'vitest'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { runConformance } from '../conformance/index.js'
import { postgresHarnessFactory } from '../conformance/postgres-harness.js'
import { createTestSchema } from '../support/database.js'
import { databaseUrl, onPglite } from './fixture.js'

// On the server when there is one, else on the embedded PGlite (one connection, in process): every
// case of the queue-level suite runs on one connection, so none is switched off there.
describe(`conformance: postgres${onPglite ? ' (PGlite)' : ''}`, () => {
  let pool: pg.Pool
  let pglite: PGlite | undefined
  beforeAll(async () => {
    if (onPglite) {
      // Loaded only here: runs on a server never load the WebAssembly build.
      const { PGlite } = await import('@electric-sql/pglite')
      const { createPGlitePool } = await import('../../src/adapters/postgres/pglite-pool.js')
      pglite = new PGlite()
      await pglite.waitReady
      pool = createPGlitePool({ pglite })
    } else {
      pool = new pg.Pool({ connectionString: databaseUrl(), max: 10 })
    }
  })
  afterAll(async () => {
    await pool.end()
    await pglite?.close()
  })

  /** A schema on PGlite, dropped through the pool (there is no URL to connect to). */
  const pgliteSchema = () => {
    const schema = `conveyor_conf_${randomBytes(6).toString('hex')}`
    return {
      schema,
      drop: async () => void (await pool.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`)),
    }
  }

  // Each harness gets a schema of its own, migrated on open and dropped on close.
  const factory = postgresHarnessFactory(
    () => pool,
    onPglite ? pgliteSchema : () => createTestSchema(databaseUrl(), 'conveyor_conf'),
  )

  runConformance(factory)
})
