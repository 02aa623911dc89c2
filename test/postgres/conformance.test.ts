import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { runConformance } from '../conformance/index.js'
import { postgresHarnessFactory } from '../conformance/postgres-harness.js'
import { createTestSchema } from '../support/database.js'
import { databaseUrl, describePostgres } from './fixture.js'

describePostgres('conformance: postgres', () => {
  let pool: pg.Pool
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 10 })
  })
  afterAll(async () => {
    await pool.end()
  })

  // Each harness gets a schema of its own, migrated on open and dropped on close.
  const factory = postgresHarnessFactory(
    () => pool,
    () => createTestSchema(databaseUrl(), 'conveyor_conf'),
  )

  runConformance(factory)
})
