/** The conformance harness on PostgreSQL: a fresh migrated schema per harness, dropped on close. */
import type pg from 'pg'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { type HarnessFactory, T0 } from './harness.js'

/** Builds harnesses on `pool`; `newSchema()` names a schema and says how to drop it. */
export function postgresHarnessFactory(
  pool: () => pg.Pool,
  newSchema: () => { schema: string; drop(): Promise<void> },
): HarnessFactory {
  return async (options = {}) => {
    const clock = new ManualClock(T0)
    const { schema, drop } = newSchema()
    const queue = createPostgresQueue({ ...options, pool: pool(), schema, clock })
    await queue.migrate()
    return {
      queue,
      clock,
      capabilities: queue.store.capabilities,
      close: async () => {
        try {
          await queue.shutdown({ graceMs: 0 })
        } finally {
          await drop()
        }
      },
    }
  }
}
