/**
 * The storage port on PostgreSQL. Several processes share one schema safely: claims and rescues lock
 * rows with `FOR UPDATE SKIP LOCKED`, unique keys and schedule ticks are unique indexes, group turns
 * take an advisory lock. Producers can enqueue inside their own transaction (`tx`); handlers can run
 * in the job's own transaction. Driver errors are translated into Conveyor errors here, at the boundary.
 */
import type pg from 'pg'
import { MAX_TIMER_MS } from '../../core/defaults.js'
import { InvalidArgumentError } from '../../core/domain/errors.js'
import type { JobRecord } from '../../core/domain/job.js'
import type { StorageHealthReading } from '../../core/domain/storage-health.js'
import { validateOptionalInt } from '../../core/domain/validation.js'
import type {
  ClaimParams,
  CompleteJobsResult,
  Completion,
  FireTickParams,
  InsertOutcome,
  JobChanges,
  JobFilter,
  JobStore,
  ListJobsParams,
  NewJob,
  OrphanParams,
  OrphanReport,
  PollStrategy,
  ProcessRecord,
  ProcessWorker,
  QueueStats,
  ScheduleRecord,
  StoreCapabilities,
  TransactionHandle,
  UpdateJobOutcome,
  UpsertScheduleParams,
} from '../../core/ports/store.js'
import { type AfterCommitWork, runAfterCommit } from './after-commit.js'
import { claimJobs } from './claim.js'
import { type ClaimCursorOptions, ClaimCursors, resolveClaimCursorOptions } from './claim-cursor.js'
import { claimTarget, createClaimPool } from './claim-pool.js'
import { completeJobs } from './complete.js'
import { DependantsSweep } from './dependants.js'
import { translateError } from './errors.js'
import { GroupHoldsSweep } from './group-holds.js'
import { HistoryUpkeep } from './history-maintenance.js'
import { insertJobs } from './insert-jobs.js'
import * as admin from './job-admin.js'
import { JobTransaction, runInTransaction } from './job-transaction.js'
import { assertMigrated, loadMigrations, type Migration, migrate, pendingMigrations } from './migrate.js'
import { NotificationListener } from './notification-listener.js'
import { assertOpenTransaction } from './open-transaction.js'
import { failOrphans, findOrphans } from './orphans.js'
import { ISOLATION_SQL, queryRows, ReadCommittedPool, type SqlTarget } from './queryable.js'
import { listProcesses, recordHeartbeat, rescueJobs } from './rescue.js'
import * as schedules from './schedules.js'
import { DEFAULT_SCHEMA, validateSchemaName } from './schema-name.js'
import { type SqlNames, sqlNames } from './sql-names.js'
import { type StoreStatements, storeStatements } from './statements.js'
import { readStorageHealth } from './storage-health.js'
import { openPool, type PostgresStoreOptions } from './store-options.js'
import { CLAIM_TIME_INDEX_WAIT_MS, TIME_INDEX_WAIT_MS, TimeIndexKeeper } from './time-index.js'
import { updateJob } from './update-job.js'

export type { PostgresStoreOptions } from './store-options.js'

/** `JobStore` on PostgreSQL with `pg`. */
export class PostgresStore implements JobStore {
  /** Shared by many processes; enqueue can join the caller's transaction; handlers can run in the job's. */
  readonly capabilities: StoreCapabilities = {
    multiProcess: true,
    transactionalEnqueue: true,
    transactionalExecution: true,
    storageHealth: true,
    announcesFreedJobs: true,
  }
  /** The schema of Conveyor's tables. */
  readonly schema: string
  /** The pool queries run on. */
  readonly pool: pg.Pool
  readonly #ownsPool: boolean
  readonly #names: SqlNames
  readonly #sql: StoreStatements
  readonly #listener: NotificationListener
  /** Claims run here (no WAL flush wait); null when the main pool cannot be duplicated. */
  readonly #claimPool: pg.Pool | null
  /** True when claims commit durably on the main pool (asked for, or the pool cannot be duplicated, e.g. PGlite). */
  readonly durableClaims: boolean
  /** The keyset claim's settings in effect (see `PostgresStoreOptions.claimCursor`). */
  readonly claimCursor: Required<ClaimCursorOptions>
  readonly #cursors: ClaimCursors
  readonly #history: HistoryUpkeep
  readonly #dependants: DependantsSweep
  readonly #groupHolds: GroupHoldsSweep
  readonly #onError: ((error: unknown) => void) | undefined
  #migrations: Promise<Migration[]> | null = null
  #checked: Promise<void> | null = null
  /**
   * The pool's sessions' default isolation level, read with the migration check. Above READ
   * COMMITTED (a database's or role's default), statements run outside a caller's transaction are
   * wrapped in READ COMMITTED transactions of their own (see `#run`).
   */
  #poolIsolation = 'read committed'
  /** The pool as it is, or each statement at READ COMMITTED when `#poolIsolation` is stricter. */
  #target: pg.Pool | ReadCommittedPool
  /** Where claims run (claim-pool.ts); null without a claim pool. */
  readonly #claimTarget: (() => Promise<SqlTarget>) | null
  readonly #timeIndex: TimeIndexKeeper
  readonly #timeIndexWaitMs: number
  #closed: Promise<void> | null = null

  /** Creates a store; nothing connects until the first call. */
  constructor(options: PostgresStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('PostgresStore needs options: { pool } or { connectionString }.')
    }
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA)
    this.claimCursor = resolveClaimCursorOptions(options.claimCursor)
    this.#cursors = new ClaimCursors(this.claimCursor)
    const opened = openPool(options)
    this.pool = opened.pool
    this.#target = this.pool
    this.#ownsPool = opened.ownsPool
    this.#names = sqlNames(this.schema)
    this.#sql = storeStatements(this.#names)
    this.#history = new HistoryUpkeep(this.pool, this.#names)
    this.#dependants = new DependantsSweep(this.#names)
    this.#groupHolds = new GroupHoldsSweep(this.#names)
    this.#onError = options.onError
    this.#timeIndexWaitMs =
      validateOptionalInt(options.timeIndexWaitMs, 'timeIndexWaitMs', 0, MAX_TIMER_MS) ?? TIME_INDEX_WAIT_MS
    this.#timeIndex = new TimeIndexKeeper(this.pool, this.#names, (error) => this.#onError?.(error))
    this.#claimPool = options.durableClaims ? null : createClaimPool(this.pool, options.onError)
    this.durableClaims = this.#claimPool === null
    this.#claimTarget = this.#claimPool && claimTarget(this.#claimPool)
    this.#listener = new NotificationListener({
      clientConfig: (this.pool as { options?: pg.ClientConfig }).options ?? {},
      jobsChannel: this.#names.jobsChannel,
      cancelChannel: this.#names.cancelChannel,
      onError: options.onError,
      onJobKeys: (keys) => this.#cursors.notified(keys),
      onMissedNotifications: () => this.#cursors.rescanAll(),
    })
  }

  /** Applies missing migrations (safe when many processes start at once); returns the names applied. */
  async migrate(): Promise<{ applied: string[] }> {
    const result = await migrate(this.pool, this.#names, await this.#loadMigrations())
    this.#checked = null
    return result
  }

  /** Names of the migrations `migrate()` would apply (a dry run). */
  async pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.pool, this.#names, await this.#loadMigrations())
  }

  /** Inserts jobs in one statement; with `tx`, inside the caller's transaction. */
  insertJobs(params: {
    jobs: readonly NewJob[]
    now?: number
    tx?: TransactionHandle
  }): Promise<InsertOutcome[]> {
    return this.#run(
      'enqueueing jobs',
      (db) => {
        if (params.tx !== undefined) assertOpenTransaction(params.tx)
        return insertJobs(db, this.#names, this.#sql.insert, params.jobs, params.now)
      },
      params.tx,
    )
  }

  /**
   * Claims due jobs in one statement (see `JobStore.claimJobs`). A store's first `time` claim makes
   * sure the schema has that strategy's index first (see `ready`).
   */
  claimJobs(params: ClaimParams): Promise<JobRecord[]> {
    return this.#run('claiming jobs', async (db) => {
      if (params.strategy === 'time') await this.#timeIndex.wait(CLAIM_TIME_INDEX_WAIT_MS)
      const target = (await this.#claimTarget?.()) ?? db
      return claimJobs(target, this.#names, this.#sql.claim, params, this.#cursors)
    })
  }

  /** Writes back many attempt outcomes in one statement (each guarded by its attempt, when given). */
  async completeJobs(params: {
    completions: readonly Completion[]
    now?: number
  }): Promise<CompleteJobsResult> {
    const { skipped, afterCommit } = await this.#run('completing jobs', (db) =>
      completeJobs(db, this.#names, this.#sql.complete, params.completions, params.now),
    )
    this.#cursors.finished(params.completions)
    // Only on a connection whose level differs from the pool's default (read with the migration
    // check): the statement then left its group releases for after its commit, which has happened.
    if (afterCommit !== null) await this.#afterCommit(afterCommit, params.now)
    return { skipped }
  }

  /** Applies one completion inside `tx` with `completeJobs`' statement; true iff the job was written. */
  async completeInTransaction(params: { completion: Completion; now?: number; tx: TransactionHandle }) {
    const { completion, now, tx } = params
    const write = (db: SqlTarget) => completeJobs(db, this.#names, this.#sql.complete, [completion], now)
    const done = await this.#run('completing a job in its transaction', write, tx)
    this.#cursors.finished([completion])
    // Above READ COMMITTED (the handler raised the level) the statement left its group releases and
    // schedule update for after the commit (after-commit.ts); until they run, the rescue pass would.
    const work = done.afterCommit
    if (work !== null) JobTransaction.afterCommit(tx, () => this.#afterCommit(work, now))
    // A handler that changed its session's default level must not leave it to the pool's next user.
    if (done.sessionIsolation !== undefined && done.sessionIsolation !== this.#poolIsolation) {
      JobTransaction.resetIsolationAfterCommit(tx)
    }
    return done.updated === 1
  }

  /** Runs what a completion above READ COMMITTED left for after its commit, at READ COMMITTED (`#run`). */
  #afterCommit(work: AfterCommitWork, now: number | undefined): Promise<void> {
    return this.#run("releasing the next jobs of groups and recording schedules' successes", (db) =>
      runAfterCommit(db, this.#names, this.#sql.afterCommit, work, now),
    )
  }

  /** Runs `fn` in a new transaction on a pooled connection (see `JobStore.runInTransaction`). */
  async runInTransaction<T>(
    fn: (tx: TransactionHandle) => Promise<{ readonly commit: boolean; readonly value: T }>,
  ): Promise<T> {
    try {
      return await runInTransaction(this.pool, fn, this.#onError)
    } catch (error) {
      throw translateError(error, this.schema, "running a job's transaction")
    }
  }

  /** Upserts this process's heartbeat row, its workers and its kinds (one statement). */
  recordHeartbeat(params: {
    processId: string
    now?: number
    workers?: readonly ProcessWorker[]
    kinds?: readonly string[]
  }): Promise<void> {
    // On the claim connections (no WAL flush wait, never behind completion batches or handlers'
    // transactions on the main pool): a heartbeat stuck in a busy pool makes a live process look dead.
    return this.#run('recording a heartbeat', (db) =>
      recordHeartbeat(
        this.#claimPool ?? db,
        this.#names,
        this.#sql.heartbeat,
        params.processId,
        params.now,
        params.workers,
        params.kinds,
      ),
    )
  }

  /** Orphaned jobs by queue and kind, and orphaned schedules (one statement; see `JobStore.findOrphans`). */
  findOrphans(params: OrphanParams): Promise<OrphanReport> {
    return this.#run('looking for orphaned jobs', (db) =>
      findOrphans(db, this.#names, this.#sql.findOrphans, params),
    )
  }

  /** Fails orphans past their grace period (one statement; see `JobStore.failOrphans`). */
  failOrphans(params: OrphanParams & { failAfterMs: number; limit: number }): Promise<JobRecord[]> {
    return this.#run('failing orphaned jobs', (db) =>
      failOrphans(db, this.#names, this.#sql.failOrphans, params),
    )
  }

  /** Live processes with their recorded workers (one statement). */
  listProcesses(params: { now?: number; liveWithinMs: number }): Promise<ProcessRecord[]> {
    return this.#run('listing processes', (db) =>
      listProcesses(db, this.#names, this.#sql.listProcesses, params),
    )
  }

  /** Returns running jobs of processes silent for more than `staleAfterMs` to the queue (one statement). */
  rescueJobs(params: {
    now?: number
    staleAfterMs: number
    timeoutMarginMs?: number
    limit: number
  }): Promise<JobRecord[]> {
    return this.#run('rescuing jobs of dead workers', async (db) => {
      const rescued = await rescueJobs(db, this.#names, this.#sql.rescue, params)
      await this.#history.afterRescue(db, params.now, params.limit)
      await this.#dependants.sweep(db)
      await this.#groupHolds.sweep(db, params.now)
      return rescued
    })
  }

  /** Returns one job with its run logs, or null. */
  getJob(params: { id: string }): Promise<JobRecord | null> {
    return this.#run('reading a job', (db) => admin.getJob(db, this.#names, params.id))
  }

  /** The jobs a unique key names: its holders, else its newest finished job (see `JobStore.getJobsByKey`). */
  getJobsByKey(params: { uniqueKey: string; kind?: string }): Promise<JobRecord[]> {
    return this.#run('reading jobs by key', (db) => admin.getJobsByKey(db, this.#names, params))
  }

  /** Lists matching jobs, newest first (keyset pagination by id). */
  listJobs(params: ListJobsParams): Promise<JobRecord[]> {
    return this.#run('listing jobs', (db) => admin.listJobs(db, this.#names, params))
  }

  /** Makes matching jobs that are not running available now; returns the count. */
  retryJobs(params: { filter: JobFilter; now?: number }): Promise<number> {
    return this.#run('retrying jobs', (db) => admin.retryJobs(db, this.#names, params.filter, params.now))
  }

  /** Cancels matching waiting or running jobs; returns their ids. */
  cancelJobs(params: { filter: JobFilter; now?: number }): Promise<string[]> {
    return this.#run('cancelling jobs', (db) => admin.cancelJobs(db, this.#names, params.filter, params.now))
  }

  /** Deletes matching jobs that are not running; returns the count. */
  pauseJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    return this.#run('pausing jobs', (db) => admin.pauseJobs(db, this.#names, params.filter))
  }

  resumeJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    return this.#run('resuming jobs', (db) => admin.resumeJobs(db, this.#names, params.filter, params.now))
  }

  deleteJobs(params: { filter: JobFilter }): Promise<number> {
    return this.#run('deleting jobs', (db) => admin.deleteJobs(db, this.#names, params.filter))
  }

  /** Changes one waiting job in one statement, atomic against claims (see `JobStore.updateJob`). */
  updateJob(params: { id: string; changes: JobChanges; now?: number }): Promise<UpdateJobOutcome> {
    return this.#run('updating a job', (db) => updateJob(db, this.#names, params))
  }

  /**
   * Deletes jobs finished before `finishedBefore`: history days wholly before it are dropped at once
   * (whatever `limit`), then at most `limit` rows of the boundary day are deleted; returns the count.
   */
  pruneJobs(params: { finishedBefore: number; limit: number }): Promise<number> {
    return this.#run('pruning jobs', (db) => this.#history.prune(db, params.finishedBefore, params.limit))
  }

  /** Pauses or resumes a queue for every process. */
  setQueuePaused(params: { queue: string; paused: boolean; now?: number }): Promise<void> {
    return this.#run('pausing a queue', (db) =>
      admin.setQueuePaused(db, this.#names, params.queue, params.paused, params.now),
    )
  }

  /** Job counts by queue and state. */
  queueStats(): Promise<QueueStats[]> {
    return this.#run('counting jobs', (db) => admin.queueStats(db, this.#names))
  }

  /** Creates or replaces a schedule. */
  upsertSchedule(params: UpsertScheduleParams): Promise<ScheduleRecord> {
    return this.#run('saving a schedule', (db) => schedules.upsertSchedule(db, this.#names, params))
  }

  /** Deletes a schedule; returns whether it existed. */
  deleteSchedule(params: { name: string }): Promise<boolean> {
    return this.#run('deleting a schedule', (db) => schedules.deleteSchedule(db, this.#names, params.name))
  }

  /** Lists schedules by name. */
  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#run('listing schedules', (db) => schedules.listSchedules(db, this.#names))
  }

  /** Schedules whose next tick is due. */
  dueSchedules(params: { now?: number }): Promise<ScheduleRecord[]> {
    return this.#run('reading due schedules', (db) => schedules.dueSchedules(db, this.#names, params.now))
  }

  /** Fires one tick exactly once across processes. */
  fireScheduleTick(params: FireTickParams): Promise<JobRecord | null> {
    // In a READ COMMITTED transaction of its own (schedules.ts).
    return this.#run('firing a schedule tick', () =>
      schedules.fireScheduleTick(this.pool, this.#names, this.#sql.insert, params),
    )
  }

  /**
   * Reads dead tuples, sizes and vacuum times of the schema's tables and what holds the database's
   * xmin horizon, from catalog views only (see `JobStore.storageHealth`).
   */
  storageHealth(): Promise<StorageHealthReading> {
    return this.#run('reading storage health', (db) => readStorageHealth(db, this.#names))
  }

  /** Calls `listener` with queue names notified on `<schema>_jobs`; listens on a dedicated connection. */
  onJobsAvailable(listener: (queues: readonly string[]) => void): () => void {
    return this.#listener.onJobsAvailable(listener)
  }

  /** Calls `listener` with job ids notified on `<schema>_cancel`. */
  onJobsCancelled(listener: (ids: readonly string[]) => void): () => void {
    return this.#listener.onJobsCancelled(listener)
  }

  /** Resolves once the notification connection listens (it starts with the first subscription). */
  whenListening(): Promise<void> {
    return this.#listener.whenListening()
  }

  /**
   * Fails on a schema missing migrations or migrated by newer code (see `JobStore.ready`). With
   * `strategies` including `time`, then makes sure the schema has that strategy's claim index
   * (`jobs_claim_time_idx`), building it when missing (see `time-index.ts`); a role that does not
   * own `jobs` gets a `SchemaPrivilegeError` with the statement for the owner to run.
   */
  async ready(params?: { readonly strategies?: readonly PollStrategy[] }): Promise<void> {
    const strategies = params?.strategies ?? []
    if (!Array.isArray(strategies) || strategies.some((s) => s !== 'priority' && s !== 'time')) {
      throw new InvalidArgumentError(
        `ready: strategies must be an array of 'priority' and 'time'; got ${JSON.stringify(strategies)}.`,
      )
    }
    await this.#ensureMigrated()
    if (strategies.includes('time')) {
      try {
        await this.#timeIndex.wait(this.#timeIndexWaitMs)
      } catch (error) {
        throw translateError(error, this.schema, "creating the 'time' strategy's index")
      }
    }
  }

  /**
   * Closes the notification connection and the claim pool, and the pool if the store created it.
   * Safe to call twice.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#listener.close()
      await this.#claimPool?.end()
      if (this.#ownsPool) await this.pool.end()
    })()
    return this.#closed
  }

  /**
   * Runs `work` on the caller's transaction or the pool once the schema is known to be migrated. On
   * a pool whose sessions default to a level above READ COMMITTED, each statement of `work` runs in a
   * READ COMMITTED transaction of its own (`ReadCommittedPool`), so that group checks and releases
   * read what committed before they took a group's lock.
   */
  async #run<T>(doing: string, work: (db: SqlTarget) => Promise<T>, tx?: TransactionHandle): Promise<T> {
    try {
      await this.#ensureMigrated()
      // A job's own transaction runs the store's statements prepared, on its connection.
      return await work(tx ? (JobTransaction.clientOf(tx) ?? tx) : this.#target)
    } catch (error) {
      throw translateError(error, this.schema, doing)
    }
  }

  /** Checks once per store that every migration is applied, so an old schema fails with a clear error. */
  #ensureMigrated(): Promise<void> {
    if (!this.#checked) {
      const check = (async () => {
        await assertMigrated(this.pool, this.#names, await this.#loadMigrations())
        const [row] = await queryRows<{ level: string }>(this.pool, { text: ISOLATION_SQL, values: [] })
        this.#poolIsolation = row?.level ?? 'read committed'
        this.#target = this.#poolIsolation === 'read committed' ? this.pool : new ReadCommittedPool(this.pool)
      })()
      this.#checked = check
      check.catch(() => {
        if (this.#checked === check) this.#checked = null
      })
    }
    return this.#checked
  }

  #loadMigrations(): Promise<Migration[]> {
    this.#migrations ??= loadMigrations()
    return this.#migrations
  }
}
