/**
 * A `pg` pool on an embedded PostgreSQL (PGlite, PostgreSQL compiled to WebAssembly), for the demo
 * and for machines without a database server. PGlite is ONE database session in this process, so:
 * - the pool holds one client at a time (`max: 1`): queries, transactions and advisory locks of
 *   different clients would otherwise interleave in that one session;
 * - every pool client gets a fresh connection object on the shared PGlite (`pg-pool` ends a client
 *   after any query error, and a shared connection object would be dead for the next client), and
 *   a new client first resets what its predecessor may have left in the session (an open
 *   transaction, prepared statements, session advisory locks);
 * - a dedicated client made from `pool.options` (how the store's notification listener connects)
 *   gets a LISTEN-only connection: its LISTEN/UNLISTEN statements run through the pool, and the
 *   notifications PGlite reports for the session are passed to it. Other statements fail on it.
 */
import { EventEmitter } from 'node:events'
import type { PGlite } from '@electric-sql/pglite'
import { PglitePgConnection } from '@electric-sql/pglite/node-postgres'
import pg from 'pg'

/** Options of `createPGlitePool`. */
export interface PGlitePoolOptions {
  /** An open PGlite instance; the pool never closes it. */
  readonly pglite: PGlite
  /** Pool option `connectionTimeoutMillis`: how long a caller waits for the one client (default 0: forever). */
  readonly connectionTimeoutMillis?: number
}

/** The statements a new client runs first: the session may hold what an ended client left behind. */
const RESET_SESSION = 'DEALLOCATE ALL; SELECT pg_advisory_unlock_all()'

/** Creates a `pg.Pool` of size 1 whose clients talk to `pglite` in process (no socket, no server). */
export function createPGlitePool(options: PGlitePoolOptions): pg.Pool {
  const { pglite } = options
  class PGliteClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connection: new SessionConnection(pglite) } as pg.ClientConfig)
    }
  }
  const pool = new pg.Pool({
    Client: PGliteClient as unknown as typeof pg.Client,
    max: 1,
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 0,
    // What `pg` reports as the server; PGlite ignores them.
    host: 'pglite',
    port: 0,
    user: 'postgres',
    database: 'postgres',
  })
  // Read by clients built from `pool.options` (a dedicated LISTEN connection); pool clients ignore it.
  Object.defineProperty(pool.options, 'connection', {
    enumerable: false,
    get: () => new ListenConnection(pglite, pool),
  })
  return pool
}

/** PGlite's node-postgres connection, resetting the shared session before its client's first query. */
class SessionConnection extends PglitePgConnection {
  readonly #pglite: PGlite

  constructor(pglite: PGlite) {
    super({ pglite })
    this.#pglite = pglite
  }

  override async connect(port: number, host: string): Promise<void> {
    await this.#pglite.waitReady
    try {
      if (this.#pglite.isInTransaction()) await this.#pglite.exec('ROLLBACK')
      await this.#pglite.exec(RESET_SESSION)
    } catch (error) {
      this.emit('error', error)
      return
    }
    return super.connect(port, host)
  }
}

const LISTEN_STATEMENT = /^\s*(UN)?LISTEN\s+("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*|\*)\s*$/i

/**
 * The connection of a dedicated `pg.Client` on PGlite that only listens. It speaks just enough of
 * `pg`'s connection interface: connect, simple LISTEN/UNLISTEN queries (run through the pool, so
 * they never interleave with a pool client's messages), notifications, end.
 */
class ListenConnection extends EventEmitter {
  /** Read by `pg.Client#end` (true once connect was called). */
  _connecting = false
  /** Read by `pg.Client` when a query must be abandoned: ends the connection. */
  readonly stream = { destroy: () => this.end() }
  readonly parsedStatements = {}
  readonly submittedNamedStatements = {}
  readonly #pglite: PGlite
  readonly #pool: pg.Pool
  readonly #channels = new Set<string>()
  #stopNotifications: (() => void) | null = null
  #ended = false

  constructor(pglite: PGlite, pool: pg.Pool) {
    super()
    this.#pglite = pglite
    this.#pool = pool
  }

  connect(): void {
    this._connecting = true
    this.#stopNotifications = this.#pglite.onNotification((channel, payload) => {
      if (this.#ended || !(this.#channels.has(channel) || this.#channels.has('*'))) return
      this.emit('notification', { name: 'notification', processId: 0, channel, payload })
    })
    this.#pglite.waitReady.then(
      () => this.#emitLater('readyForQuery', { name: 'readyForQuery', status: 'I' }),
      (error: unknown) => this.#emitLater('error', error),
    )
  }

  query(text: string): void {
    void this.#listen(text)
  }

  async #listen(text: string): Promise<void> {
    const statements = text.split(';').filter((s) => s.trim() !== '')
    const parsed = statements.map((s) => LISTEN_STATEMENT.exec(s))
    try {
      if (parsed.some((m) => m === null)) {
        throw new Error('This PGlite connection only runs LISTEN and UNLISTEN: use a pool client.')
      }
      await this.#pool.query(text)
      for (const match of parsed) {
        const [, un, quoted = ''] = match as RegExpExecArray
        // PostgreSQL folds unquoted names to lower case.
        const channel = quoted.startsWith('"')
          ? quoted.slice(1, -1).replaceAll('""', '"')
          : quoted.toLowerCase()
        if (!un) this.#channels.add(channel)
        else if (channel === '*') this.#channels.clear()
        else this.#channels.delete(channel)
        this.emit('commandComplete', { name: 'commandComplete', text: un ? 'UNLISTEN' : 'LISTEN' })
      }
    } catch (error) {
      this.emit('errorMessage', error)
    }
    this.emit('readyForQuery', { name: 'readyForQuery', status: 'I' })
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#stopNotifications?.()
    this.#emitLater('end', undefined)
  }

  ref(): void {}
  unref(): void {}
  requestSsl(): void {}
  startup(): void {}

  #emitLater(event: string, value: unknown): void {
    process.nextTick(() => this.emit(event, value))
  }
}
