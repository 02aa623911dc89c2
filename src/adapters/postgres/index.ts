/**
 * `conveyor/postgres`: the PostgreSQL adapter. Jobs live in the application's database, can be
 * enqueued in the application's own transaction, and are shared safely by any number of worker
 * processes. Run `queue.migrate()` (or `conveyor migrate`) once per deploy before using it.
 */
import type pg from 'pg'
import { createSystemClock } from '../../core/clock.js'
import { type CoreQueue, createQueue, extendQueue } from '../../core/queue.js'
import type { QueueOptions } from '../../core/queue-options.js'
import { PostgresStore } from './postgres-store.js'

/** Options of `createPostgresQueue`: where the database is, the schema, and the shared queue options. */
export interface PostgresQueueOptions extends QueueOptions {
  /** The application's pool (left open by `shutdown`). Give this or `connectionString`. */
  readonly pool?: pg.Pool
  /** Connection string of a pool the queue creates and ends on `shutdown`. */
  readonly connectionString?: string
  /** Size of that pool (default 10). */
  readonly maxConnections?: number
  /** Schema of Conveyor's tables (default `conveyor`). */
  readonly schema?: string
}

/** A queue stored in PostgreSQL, with its migrations. */
export interface PostgresQueue extends CoreQueue {
  /** The PostgreSQL store this queue runs on. */
  readonly store: PostgresStore
  /** Applies missing migrations (safe when many processes start at once); returns the names applied. */
  migrate(): Promise<{ applied: string[] }>
  /** Names of the migrations `migrate()` would apply (a dry run). */
  pendingMigrations(): Promise<string[]>
}

/** Creates a queue on PostgreSQL; its clock defaults to the system clock. */
export function createPostgresQueue(options: PostgresQueueOptions): PostgresQueue {
  const { pool, connectionString, maxConnections, schema, ...queueOptions } = options
  const store = new PostgresStore({
    pool,
    connectionString,
    maxConnections,
    schema,
    onError: (error) => queueOptions.logger?.warn('PostgreSQL background connection error', { error }),
  })
  const core = createQueue(store, { ...queueOptions, clock: queueOptions.clock ?? createSystemClock() })
  return extendQueue(core, {
    store,
    migrate: () => store.migrate(),
    pendingMigrations: () => store.pendingMigrations(),
  }) as unknown as PostgresQueue
}

export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js'
export { DEFAULT_SCHEMA } from './schema-name.js'
