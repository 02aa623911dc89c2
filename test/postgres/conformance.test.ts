import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { ManualClock } from '../../src/core/clock.js'
import { type HarnessFactory, T0 } from '../conformance/harness.js'
import { runConformance } from '../conformance/index.js'
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
  const factory: HarnessFactory = async (options = {}) => {
    const clock = new ManualClock(T0)
    const schema = createTestSchema(databaseUrl(), 'conveyor_conf')
    const queue = createPostgresQueue({ ...options, pool, schema: schema.schema, clock })
    await queue.migrate()
    return {
      queue,
      clock,
      capabilities: queue.store.capabilities,
      close: async () => {
        try {
          await queue.shutdown({ graceMs: 0 })
        } finally {
          await schema.drop()
        }
      },
    }
  }

  runConformance(factory)
})
