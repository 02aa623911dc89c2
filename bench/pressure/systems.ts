/**
 * The producer side of each pressure system, in the harness process: installs the schema in a
 * fresh database and inserts batches through the system's own bulk API (Conveyor's `enqueueMany`,
 * graphile-worker's `addJobs`) or the candidate's insert statement.
 */
import { makeWorkerUtils, runMigrations } from 'graphile-worker'
import pg from 'pg'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { candidateById } from '../candidates/registry.js'
import { CONVEYOR_SCHEMA } from '../systems/conveyor.js'
import { silentLogger } from '../systems/graphile-worker.js'
import type { PressurePayload } from './protocol.js'

/** Inserts batches of jobs for one system. */
export interface PressureProducer {
  insert(payloads: readonly PressurePayload[]): Promise<void>
  close(): Promise<void>
}

const job = defineJob<PressurePayload>({ kind: 'noop' })

/** Installs `system`'s schema in the fresh database and opens its producer. */
export async function openPressureProducer(system: string, databaseUrl: string): Promise<PressureProducer> {
  if (system === 'conveyor' || system === 'conveyor-front') {
    const queue = createPostgresQueue({ connectionString: databaseUrl, schema: CONVEYOR_SCHEMA })
    await queue.migrate()
    return {
      insert: async (payloads) => {
        await queue.enqueueMany(payloads.map((payload) => ({ job, payload })))
      },
      close: () => queue.shutdown(),
    }
  }
  if (system === 'graphile-worker') {
    await runMigrations({ connectionString: databaseUrl, logger: silentLogger })
    const utils = await makeWorkerUtils({ connectionString: databaseUrl, logger: silentLogger })
    return {
      insert: async (payloads) => {
        await utils.addJobs(payloads.map((payload) => ({ identifier: 'noop', payload })))
      },
      close: async () => {
        await utils.release()
      },
    }
  }
  const candidate = candidateById(system)
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, options: '-c jit=off' })
  pool.on('error', () => {})
  await candidate.install(pool)
  return {
    insert: (payloads) =>
      candidate.insert(
        pool,
        payloads.map((p) => JSON.stringify(p)),
      ),
    close: () => pool.end(),
  }
}
