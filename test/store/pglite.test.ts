import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { describe } from 'vitest'
import { createPGlitePool } from '../../src/adapters/postgres/pglite-pool.js'
import { runStoreConformance } from './index.js'
import { postgresStoreFactory } from './postgres-factory.js'

// On the embedded PGlite: always runs, in process, on one connection.
describe('PGlite', () => {
  const factory = postgresStoreFactory('pglite', async () => {
    const pglite = new PGlite()
    await pglite.waitReady
    const pool = createPGlitePool({ pglite })
    return {
      pool,
      schema: `conveyor_store_${randomBytes(6).toString('hex')}`,
      release: async () => {
        await pool.end()
        await pglite.close()
      },
    }
  })
  runStoreConformance(factory)
})
