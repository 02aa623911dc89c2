/** Options of `PostgresStore`, and the pool they open. */
import pg from 'pg'
import { InvalidArgumentError } from '../../core/domain/errors.js'
import type { ClaimCursorOptions } from './claim-cursor.js'

/** How to reach the database: the application's pool, or a connection string for a pool the store owns. */
export interface PostgresStoreOptions {
  /** A pool the application owns; `close()` leaves it open. */
  readonly pool?: pg.Pool
  /** Connection string of a pool the store creates itself and ends on `close()`. */
  readonly connectionString?: string | undefined
  /** Size of the store's own pool (default 10; only with `connectionString`). */
  readonly maxConnections?: number
  /** Schema of Conveyor's tables (default `conveyor`). */
  readonly schema?: string
  /** Receives background errors (the LISTEN connection dropping, errors of idle pool clients). */
  readonly onError?: (error: unknown) => void
  /**
   * Run claims on the main pool with full durability instead of on two extra connections with
   * `synchronous_commit = off` (default false: a lost claim only leaves its job available).
   */
  readonly durableClaims?: boolean
  /**
   * The keyset claim: each claim resumes its index scan where the worker's last claim ended (less
   * `lookbackMs` of run time), and scans from the front at least every `fullScanIntervalMs` (defaults
   * 1000 and 0; `fullScanIntervalMs: 0` scans from the front every time). Keeps claims cheap while
   * a long transaction holds back VACUUM; see docs/storage.md.
   */
  readonly claimCursor?: ClaimCursorOptions
  /**
   * How long `ready()` (so a queue's `start()`) waits for the `time` strategy's index to be built
   * when its workers claim by time and the schema lacks it (default 30000 ms). A concurrent build
   * waits for every transaction open when it began; past this wait the build goes on in the
   * background, `onError` gets an `IndexBuildPendingError`, and claims by time run without the index
   * (reading the claim index and sorting) until it is there.
   */
  readonly timeIndexWaitMs?: number
}

/**
 * The pool the store runs on: the application's (`pool`, left open by `close()`), or one it opens
 * from `connectionString` and owns.
 */
export function openPool(options: PostgresStoreOptions): { pool: pg.Pool; ownsPool: boolean } {
  if (options.pool !== undefined && options.connectionString !== undefined)
    throw new InvalidArgumentError(
      'Give either pool (your own pg.Pool, left open by shutdown) or connectionString (a pool the queue opens and ends), not both.',
    )
  if (options.pool !== undefined && options.maxConnections !== undefined)
    throw new InvalidArgumentError(
      `maxConnections sizes the pool the queue opens from connectionString; with your own pool, set its size there: new pg.Pool({ max: ${String(options.maxConnections)} }).`,
    )
  if (options.pool !== undefined) {
    if (typeof options.pool?.query !== 'function' || typeof options.pool?.connect !== 'function') {
      throw new InvalidArgumentError('pool must be a pg Pool (an object with query() and connect()).')
    }
    return { pool: options.pool, ownsPool: false }
  }
  if (typeof options.connectionString === 'string' && options.connectionString.length > 0) {
    assertConnectionString(options.connectionString)
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
      // The completion and rescue statements plan with large cost estimates on big tables; JIT
      // would compile them on every run for no gain.
      options: '-c jit=off',
    })
    pool.on('error', (error) => options.onError?.(error))
    return { pool, ownsPool: true }
  }
  if (
    'connectionString' in options &&
    (options.connectionString === undefined || options.connectionString === '')
  )
    throw new InvalidArgumentError(
      `connectionString is ${options.connectionString === '' ? 'empty' : 'undefined'} (connectionString: process.env.DATABASE_URL with DATABASE_URL unset?): set it to a PostgreSQL URL such as postgres://user:password@host:5432/database, or pass a pg Pool as { pool }.`,
    )
  throw new InvalidArgumentError(
    'createPostgresQueue (and PostgresStore) needs a pg Pool ({ pool }) or a connection string ({ connectionString }).',
  )
}

/**
 * Refuses a connection string `pg` cannot read: it takes a URL (`postgres://...`) or a socket path
 * (`/var/run/postgresql db`, `socket:...`), and reads anything else as a URL whose parts are missing,
 * which the server then refuses with an error about the startup packet. The string is not echoed: it
 * may hold a password.
 */
function assertConnectionString(connectionString: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(connectionString)?.[1]
  // What pg-connection-string reads: postgres://, postgresql://, pg:// and socket:// (a socket with credentials).
  if (scheme !== undefined && !/^(postgres(ql)?|pg|socket)$/i.test(scheme))
    throw new InvalidArgumentError(
      `connectionString must be a PostgreSQL URL (postgres:// or postgresql://); the one given starts with ${scheme}://.`,
    )
  if (scheme !== undefined || /^(\/|socket:)/.test(connectionString)) return
  throw new InvalidArgumentError(
    'connectionString must be a URL such as postgres://user:password@host:5432/database (or a socket path); the one given has no scheme (postgres://).',
  )
}
