import pg from 'pg'
import { databaseUrl, describePostgres } from '../postgres/fixture.js'
import { createTestSchema } from '../support/database.js'
import { runStoreConformance } from './index.js'
import { postgresStoreFactory } from './postgres-factory.js'

// On a PostgreSQL server (skipped without one; test/store/pglite.test.ts always runs).
describePostgres('PostgreSQL server', () => {
  const factory = postgresStoreFactory('postgres', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 4 })
    const { schema, drop } = createTestSchema(databaseUrl(), 'conveyor_store')
    return {
      pool,
      schema,
      release: async () => {
        await drop()
        await pool.end()
      },
    }
  })
  runStoreConformance(factory)
})
