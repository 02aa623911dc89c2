/**
 * Storage health: what a store reads from its database's catalog (dead tuples, sizes, and what holds
 * the xmin horizon back), and the rule that turns a reading into warnings. Pure: the reading comes
 * in, the assessment goes out.
 *
 * Why it matters: a job queue updates and deletes rows all the time, and PostgreSQL removes the old
 * row versions only when no transaction can still see them. A session idle in a transaction, a
 * forgotten prepared transaction or a replica with `hot_standby_feedback` holds that "xmin horizon",
 * the dead versions pile up in the claim indexes, and every claim walks them (docs/storage.md).
 */

/** One table of the queue's schema, as the database's statistics and file sizes describe it. */
export interface TableHealth {
  /** Table name inside the queue's schema (`jobs`, `queues`, ...). */
  readonly name: string
  /** Live rows, as the statistics estimate them. */
  readonly liveTuples: number
  /** Dead row versions not yet removed (after a VACUUM: those it could not remove). */
  readonly deadTuples: number
  /** Bytes of the table with its indexes and TOAST. */
  readonly totalBytes: number
  /** Bytes of its indexes. */
  readonly indexBytes: number
  /** Last manual VACUUM, epoch ms, or null. */
  readonly lastVacuumAt: number | null
  /** Last VACUUM by autovacuum, epoch ms, or null. */
  readonly lastAutovacuumAt: number | null
}

/** What can hold the xmin horizon back. */
export type HorizonHolderKind = 'session' | 'replicationSlot' | 'preparedTransaction'

/** Something that keeps dead row versions from being removed, oldest first in a reading. */
export interface HorizonHolder {
  readonly kind: HorizonHolderKind
  /** Backend process id (a session, or the process using a slot); null for a prepared transaction. */
  readonly pid: number | null
  /** `application_name` of a session, the slot's name, or the prepared transaction's gid. */
  readonly name: string
  /** A session's state (`idle in transaction`, `active`, ...), `active`/`inactive` for a slot, `prepared`. */
  readonly state: string | null
  readonly user: string | null
  readonly database: string | null
  /** The transaction id it holds the horizon at (a snapshot's xmin, or its own transaction id), as text. */
  readonly xmin: string
  /** Transactions since that xmin (`age(xmin)`): how far back it holds the horizon. */
  readonly xminAge: number
  /** When its transaction began (a session's `xact_start`, a prepared transaction's `prepared`), epoch ms. */
  readonly transactionStartedAt: number | null
  /** When a session's current or last statement began, epoch ms. */
  readonly queryStartedAt: number | null
  /** A session's current or last statement, cut to 200 characters. */
  readonly query: string | null
}

/** What a store reads (`JobStore.storageHealth`): the catalog at one moment. */
export interface StorageHealthReading {
  /** The database's time of the reading, epoch ms. */
  readonly checkedAt: number
  readonly database: string
  /** The schema of the queue's tables. */
  readonly schema: string
  /** Every table of the schema, by name. */
  readonly tables: readonly TableHealth[]
  /** What holds the horizon of this database (at most 10, the oldest xmin first). */
  readonly holders: readonly HorizonHolder[]
}

/** A holder with how long it has held the horizon. */
export interface AgedHorizonHolder extends HorizonHolder {
  /**
   * How long it has held the horizon, ms: since its transaction began, or for a replication slot
   * (which has no start time) since this process first saw the slot at this xmin (a lower bound).
   */
  readonly heldMs: number
}

/** A reason to act, with the sentence that says what is wrong and how to end it. */
export interface StorageWarning {
  /**
   * `heldHorizon`: something has held the xmin horizon for at least `horizonWarnAfterMs` while a
   * table of the queue has at least `deadTuplesWarnAt` dead tuples, so claims walk dead entries.
   */
  readonly rule: 'heldHorizon'
  readonly message: string
  /** The holder to end. */
  readonly holder: AgedHorizonHolder
  /** The table with the most dead tuples. */
  readonly table: string
}

/** A reading with each holder's age and the warnings it raises (`Queue.storageHealth`). */
export interface StorageHealth {
  readonly checkedAt: number
  readonly database: string
  readonly schema: string
  readonly tables: readonly TableHealth[]
  /** Oldest first (largest `xminAge`). */
  readonly holders: readonly AgedHorizonHolder[]
  /** The oldest holder's age, ms; 0 when nothing holds the horizon. */
  readonly oldestTransactionAgeMs: number
  /** The warning thresholds this assessment used. */
  readonly thresholds: StorageHealthThresholds
  readonly warnings: readonly StorageWarning[]
}

/** Options of one `Queue.storageHealth()` call. */
export interface StorageHealthOptions {
  /** Reuse a reading at most this old, ms (default: the queue's `storageHealth.cacheMs`; 0 reads now). */
  readonly maxAgeMs?: number
}

/** When `heldHorizon` fires (see `StorageWarning.rule`). */
export interface StorageHealthThresholds {
  readonly horizonWarnAfterMs: number
  readonly deadTuplesWarnAt: number
}

/**
 * Ages the holders of `reading` and applies the warning rule. `firstSeenAt(holder)` says since when
 * a holder without a start time (a replication slot) has been seen at its xmin.
 */
export function assessStorageHealth(
  reading: StorageHealthReading,
  thresholds: StorageHealthThresholds,
  firstSeenAt: (holder: HorizonHolder) => number,
): StorageHealth {
  const now = reading.checkedAt
  const holders = reading.holders.map((h) => ({
    ...h,
    heldMs: Math.max(0, now - (h.transactionStartedAt ?? firstSeenAt(h))),
  }))
  const oldestTransactionAgeMs = holders.reduce((max, h) => Math.max(max, h.heldMs), 0)
  const warnings: StorageWarning[] = []
  const worst = reading.tables.reduce<TableHealth | null>(
    (w, t) => (w === null || t.deadTuples > w.deadTuples ? t : w),
    null,
  )
  // The holder held longest, not the one with the oldest xmin: the rule is about time.
  const holder = holders.reduce<AgedHorizonHolder | null>(
    (w, h) => (w === null || h.heldMs > w.heldMs ? h : w),
    null,
  )
  if (
    worst !== null &&
    holder !== null &&
    holder.heldMs >= thresholds.horizonWarnAfterMs &&
    worst.deadTuples >= thresholds.deadTuplesWarnAt
  ) {
    warnings.push({
      rule: 'heldHorizon',
      holder,
      table: worst.name,
      message:
        `${describeHolder(holder)} has held the xmin horizon for ${formatDuration(holder.heldMs)}, and ` +
        `${reading.schema}.${worst.name} has ${worst.deadTuples.toLocaleString('en-US')} dead row versions that ` +
        `VACUUM cannot remove meanwhile: claims walk them, so pickup slows and database CPU rises. ${howToEnd(holder)}`,
    })
  }
  return {
    checkedAt: reading.checkedAt,
    database: reading.database,
    schema: reading.schema,
    tables: reading.tables,
    holders,
    oldestTransactionAgeMs,
    thresholds: {
      horizonWarnAfterMs: thresholds.horizonWarnAfterMs,
      deadTuplesWarnAt: thresholds.deadTuplesWarnAt,
    },
    warnings,
  }
}

/** "Session pid 123 (application "psql", user "app", idle in transaction)". */
export function describeHolder(holder: HorizonHolder): string {
  const details = (parts: (string | null)[]) => parts.filter((p) => p !== null && p !== '').join(', ')
  switch (holder.kind) {
    case 'session':
      return `Session pid ${holder.pid} (${details([
        `application ${JSON.stringify(holder.name)}`,
        holder.user && `user ${JSON.stringify(holder.user)}`,
        holder.state,
      ])})`
    case 'replicationSlot':
      return `Replication slot ${JSON.stringify(holder.name)} (${details([
        holder.state,
        holder.pid === null ? null : `used by pid ${holder.pid}`,
      ])})`
    case 'preparedTransaction':
      return `Prepared transaction ${JSON.stringify(holder.name)}${holder.user ? ` (owner ${JSON.stringify(holder.user)})` : ''}`
  }
}

/** What an operator runs to release the horizon. */
export function howToEnd(holder: HorizonHolder): string {
  const literal = `'${holder.name.replaceAll("'", "''")}'`
  switch (holder.kind) {
    case 'session':
      return `End its transaction in the application, or end the session: SELECT pg_terminate_backend(${holder.pid}); (idle_in_transaction_session_timeout ends such sessions on its own).`
    case 'replicationSlot':
      return `If the slot is no longer used, drop it: SELECT pg_drop_replication_slot(${literal}); if a replica uses it, its long queries hold the horizon through hot_standby_feedback.`
    case 'preparedTransaction':
      return `Finish it: ROLLBACK PREPARED ${literal}; (or COMMIT PREPARED ${literal}; if its work must be kept).`
  }
}

/** "2 min 5 s", "45 s", "1 h 3 min", "850 ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}
