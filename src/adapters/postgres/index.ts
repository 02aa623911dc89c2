/**
 * `conveyor-jobs/postgres`: the PostgreSQL adapter. Jobs live in the application's database, can be
 * enqueued in the application's own transaction, and are shared safely by any number of worker
 * processes. Run `queue.migrate()` (or `conveyor migrate`) once per deploy before using it.
 */
import type pg from 'pg'
import type { QueueOptions } from '../../core/config/queue-options.js'
import { resolveConfig } from '../../core/config/resolve-config.js'
import { type CoreQueue, createConfiguredQueue } from '../../core/create-queue.js'
import { DEFAULT_CONCURRENCY } from '../../core/defaults.js'
import { InvalidArgumentError } from '../../core/domain/errors.js'
import { extendQueue } from '../../core/extend-queue.js'
import { shutDownError } from '../../core/queue-lifecycle.js'
import {
  DEFAULT_MIDDLEWARE_KEYS,
  type TracedQueueOptions,
  withDefaultMiddleware,
} from '../../instrumentation/default-middleware.js'
import { createNodeIsolation } from '../../isolation/node-isolation.js'
import { withAmbientTransaction } from './ambient-transaction.js'
import type { ClaimCursorOptions } from './claim-cursor.js'
import { DatabaseClock, type TimeQueryable } from './database-clock.js'
import { PostgresStore } from './postgres-store.js'

/**
 * Options of `createPostgresQueue`: where the database is, the schema, and the shared queue options
 * and `tracing`.
 */
export interface PostgresQueueOptions extends TracedQueueOptions {
  /** The application's pool (left open by `shutdown`). Give this or `connectionString`. */
  readonly pool?: pg.Pool
  /**
   * Connection string of a pool the queue creates and ends on `shutdown` (`undefined`, as from an
   * unset environment variable, is refused with a message saying so).
   */
  readonly connectionString?: string | undefined
  /** Size of that pool (default 10, or more when transactional workers need more; see `poolSizeFor`). */
  readonly maxConnections?: number
  /** Schema of Conveyor's tables (default `conveyor`). */
  readonly schema?: string
  /**
   * Claim on the main pool with full durability instead of on two extra connections with
   * `synchronous_commit = off` (default false; a claim lost in a server crash only leaves its jobs
   * available, so the fast path loses nothing).
   */
  readonly durableClaims?: boolean
  /**
   * The keyset claim: `{ fullScanIntervalMs, lookbackMs }` (defaults 1000 and 0). Each claim
   * resumes where the worker's last one ended, less `lookbackMs` of run time, and one claim at least
   * every `fullScanIntervalMs` starts from the front (`0`: every claim does). See docs/storage.md.
   */
  readonly claimCursor?: ClaimCursorOptions
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

/**
 * Postgres workers buffer claimed jobs unless the options set `prefetch`: `'auto'`, from
 * `AUTO_PREFETCH.base` (100) up to `AUTO_PREFETCH.max` (1,600) while fast jobs drain a backlog.
 * Claiming ahead turns many small claims into few larger ones (the claim round trip leaves the hot
 * path), which is most of the throughput on defaults (BENCHMARKS.md has the figures). The base
 * stays moderate because buffered jobs are already `running` in the database: a buffered job not
 * started within `maxBufferWaitMs` is released (and the buffer falls back to its base), but when
 * the process crashes its buffer waits for the rescue, which counts an attempt.
 */
export const DEFAULT_PREFETCH = 'auto' as const

/** Connections on top of the running transactions, for claims, completions and the application. */
const SPARE_CONNECTIONS = 2

/**
 * The pool size transactional jobs need: each job running in its own transaction holds one
 * connection for its whole run, so the pool must fit all of them at once plus a couple for claims
 * and completions; otherwise workers starve waiting for connections. A worker counts with its whole
 * concurrency when it is `transactional: true`, or when it serves one of `transactionalQueues` (the
 * queues of kinds registered with `{ transactional: true }`; `start()` passes them). Zero without such
 * workers.
 */
export function poolSizeFor(
  options: Pick<QueueOptions, 'workers' | 'queues'>,
  transactionalQueues: readonly string[] = [],
): number {
  const workers: readonly { queues?: readonly string[]; concurrency?: number; transactional?: boolean }[] =
    options.workers ??
    (options.queues
      ? Object.entries(options.queues).map(([queue, q]) => ({ queues: [queue], concurrency: q?.concurrency }))
      : // The default worker serves the queues of every registered kind, so these too.
        [{ queues: transactionalQueues }])
  let running = 0
  for (const w of workers) {
    const servesTransactional = w?.queues?.some((q) => transactionalQueues.includes(q)) === true
    if (w?.transactional !== true && !servesTransactional) continue
    const c = w.concurrency
    running += typeof c === 'number' && Number.isInteger(c) && c > 0 ? c : DEFAULT_CONCURRENCY
  }
  return running === 0 ? 0 : running + SPARE_CONNECTIONS
}

/** Throws when a pool of `max` connections cannot serve the transactional jobs (`needed`). */
function assertPoolSize(max: unknown, needed: number, how: string): void {
  if (typeof max !== 'number' || max >= needed) return
  throw new InvalidArgumentError(
    `The pool allows ${max} connections, but jobs running in their own transaction need ${needed}: one per job the workers that run them (transactional workers, and workers serving the queue of a kind registered with { transactional: true }) run at once (the sum of their concurrency), plus ${SPARE_CONNECTIONS} for claiming and completing. ${how} Or lower those workers' concurrency.`,
  )
}

/** What a drain that shutdown stopped before it ran any job resolves with. */
const STOPPED_BEFORE_ANY_JOB = Object.freeze({
  succeeded: 0,
  retried: 0,
  failed: 0,
  cancelled: 0,
  snoozed: 0,
  total: 0,
  stopped: true,
})

/**
 * Creates a queue on PostgreSQL; `prefetch` defaults to `'auto'` and its clock to the database's
 * (a `DatabaseClock`, synced when the queue starts and every minute while it runs), so every process
 * uses the database's time whatever its host's clock says.
 */
export function createPostgresQueue(options: PostgresQueueOptions): PostgresQueue {
  let databaseClock: DatabaseClock | undefined
  const config = resolveConfig(withDefaultMiddleware(options), {
    extraKeys: [
      ...DEFAULT_MIDDLEWARE_KEYS,
      'pool',
      'connectionString',
      'maxConnections',
      'schema',
      'durableClaims',
      'claimCursor',
    ],
    clock: () => {
      databaseClock = new DatabaseClock(
        { query: (text) => store.pool.query(text) },
        {
          onError: (error) =>
            options.logger?.warn("Could not read the database's time; the clock keeps its last reading", {
              error,
            }),
        },
      )
      return databaseClock
    },
    prefetch: DEFAULT_PREFETCH,
  })
  const { pool, connectionString, maxConnections, schema, durableClaims, claimCursor, ...queueOptions } =
    options
  if (durableClaims !== undefined && typeof durableClaims !== 'boolean')
    throw new InvalidArgumentError(`durableClaims must be true or false; got ${String(durableClaims)}.`)
  const needed = poolSizeFor(queueOptions)
  if (pool !== undefined) {
    const max = (pool as { options?: { max?: unknown } } | null)?.options?.max
    assertPoolSize(max, needed, `Create the pool with new pg.Pool({ max: ${needed} }) or more.`)
  } else {
    assertPoolSize(maxConnections, needed, `Pass maxConnections: ${needed} or more.`)
  }
  const store = new PostgresStore({
    pool,
    // Only when given (as undefined too: an unset environment variable gets a message of its own).
    ...('connectionString' in options ? { connectionString } : {}),
    maxConnections:
      pool === undefined && maxConnections === undefined ? Math.max(10, needed) : maxConnections,
    schema,
    durableClaims,
    claimCursor,
    onError: (error) => queueOptions.logger?.warn('PostgreSQL background connection error', { error }),
  })
  const core = createConfiguredQueue(store, config, createNodeIsolation())
  /** The queue of each kind registered with `{ transactional: true }`, for the pool check at start. */
  const transactionalKinds = new Map<string, string>()
  /**
   * At start, the workers and the handlers are known: the pool must fit every job that may run in
   * its own transaction. The queue's own pool grows to that (unless `maxConnections` was given);
   * the application's pool, or a `maxConnections` too small, is refused with how to size it.
   */
  const checkPoolAtStart = (): void => {
    const needed = poolSizeFor(queueOptions, [...new Set(transactionalKinds.values())])
    if (pool !== undefined) {
      const max = (pool as { options?: { max?: unknown } } | null)?.options?.max
      assertPoolSize(max, needed, `Create the pool with new pg.Pool({ max: ${needed} }) or more.`)
    } else if (maxConnections !== undefined) {
      assertPoolSize(maxConnections, needed, `Pass maxConnections: ${needed} or more.`)
    } else if (store.pool.options.max < needed) {
      // pg's pool reads its max on each checkout, so raising it before any job runs is enough.
      store.pool.options.max = needed
    }
  }
  let started: Promise<void> | undefined
  let stopping = false
  /** Set once shutdown has finished (the core refuses its own calls from then on; this covers migrations). */
  let closed = false
  const unlessClosed =
    <R>(method: string, call: () => Promise<R>) =>
    (): Promise<R> =>
      closed ? Promise.reject(shutDownError(method)) : call()
  // What reads the clock in JavaScript (run-at times, schedule ticks, retries) waits for its first
  // reading of the database's time: before it, a host clock a minute off would enqueue, schedule and
  // retry a minute off.
  const synced =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await databaseClock?.ready()
      return call(...args)
    }
  /** Enqueues read the time through their transaction, if any (it may hold the pool's last connection). */
  const syncedIn = async (options: unknown): Promise<void> => {
    const tx = (options as { tx?: TimeQueryable } | undefined)?.tx
    await databaseClock?.ready(typeof tx?.query === 'function' ? tx : undefined)
  }
  return extendQueue(core, {
    store,
    // Enqueues without a `tx` option run in the ambient transaction of `withTransaction`, if any.
    // Only the first enqueues wait for the clock; after its first reading they call the core directly.
    enqueue: ((job, payload, options) => {
      const resolved = withAmbientTransaction(options)
      if (databaseClock?.synced !== false) return core.enqueue(job, payload, resolved)
      return syncedIn(resolved).then(() => core.enqueue(job, payload, resolved))
    }) as CoreQueue['enqueue'],
    enqueueMany: ((items, options) => {
      const resolved = withAmbientTransaction(options)
      if (databaseClock?.synced !== false) return core.enqueueMany(items, resolved)
      return syncedIn(resolved).then(() => core.enqueueMany(items, resolved))
    }) as CoreQueue['enqueueMany'],
    schedule: synced(core.schedule.bind(core)) as CoreQueue['schedule'],
    drain: (async (drainOptions) => {
      if (databaseClock?.synced === false) {
        await databaseClock.ready()
        // shutdown() began while this drain waited for the clock's first reading: it started no job,
        // so it ends as a drain stopped by shutdown does (the core would refuse it now).
        if (stopping) return { ...STOPPED_BEFORE_ANY_JOB }
      }
      return core.drain(drainOptions)
    }) as CoreQueue['drain'],
    updateJob: synced(core.updateJob.bind(core)) as CoreQueue['updateJob'],
    prune: synced(core.prune.bind(core)) as CoreQueue['prune'],
    retryJobs: synced(core.retryJobs.bind(core)) as CoreQueue['retryJobs'],
    cancelJobs: synced(core.cancelJobs.bind(core)) as CoreQueue['cancelJobs'],
    pauseJobs: synced(core.pauseJobs.bind(core)) as CoreQueue['pauseJobs'],
    resumeJobs: synced(core.resumeJobs.bind(core)) as CoreQueue['resumeJobs'],
    pauseQueue: synced(core.pauseQueue.bind(core)) as CoreQueue['pauseQueue'],
    resumeQueue: synced(core.resumeQueue.bind(core)) as CoreQueue['resumeQueue'],
    // The clock re-reads the database's time every minute while the queue runs, not after shutdown.
    // One promise for every call, as the core's own start.
    start: () => {
      if (stopping) return core.start() // refused by the core, as it says
      if (started === undefined) {
        try {
          checkPoolAtStart()
        } catch (error) {
          return Promise.reject(error)
        }
      }
      started ??= (async () => {
        await databaseClock?.start()
        return core.start()
      })()
      return started
    },
    shutdown: (shutdownOptions?: Parameters<CoreQueue['shutdown']>[0]) => {
      stopping = true
      databaseClock?.stop()
      const done = core.shutdown(shutdownOptions)
      done.then(
        () => {
          closed = true
        },
        () => undefined,
      )
      return done
    },
    register: ((job, handler, registerOptions) => {
      core.register(job, handler, registerOptions)
      if (registerOptions?.transactional === true) transactionalKinds.set(job.kind, job.defaults.queue)
      else transactionalKinds.delete(job.kind)
    }) as CoreQueue['register'],
    migrate: unlessClosed('migrate', () => store.migrate()),
    pendingMigrations: unlessClosed('pendingMigrations', () => store.pendingMigrations()),
  }) as unknown as PostgresQueue
}

export { withTransaction } from './ambient-transaction.js'
export { type ClaimCursorOptions, DEFAULT_CLAIM_CURSOR } from './claim-cursor.js'
export { adaptDrizzleTransaction, type DrizzleTransactionLike } from './clients/drizzle.js'
export { adaptKnexTransaction, type KnexTransactionLike } from './clients/knex.js'
export { adaptKyselyTransaction, type KyselyTransactionLike } from './clients/kysely.js'
export { adaptPostgresJsTransaction, type PostgresJsTransactionLike } from './clients/postgres-js.js'
export { adaptPrismaTransaction, type PrismaTransactionLike } from './clients/prisma.js'
export { DATABASE_CLOCK_RESYNC_MS, DatabaseClock, type TimeQueryable } from './database-clock.js'
export { TransactionRolledBackError } from './job-transaction.js'
export { migrationSql } from './migrate.js'
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js'
export { DEFAULT_SCHEMA } from './schema-name.js'
