/**
 * What the pressure scenario reads from the database server between reports:
 * - database CPU: utime + stime, from `/proc/<pid>/stat`, of every server process connected to the
 *   run's database (found in `pg_stat_activity` at each report; the monitor's own session excluded).
 *   Shared background processes (WAL writer, checkpointer, background writer) serve every database
 *   on the server, other developers' included, and are not counted; a backend that ends between
 *   two reports loses its last interval (the runs keep their connections, so this is rare);
 * - dead tuples (`n_dead_tup`) and total size (tables, indexes, TOAST) of the database's user tables.
 * The server must run on this machine with its /proc readable; otherwise CPU is reported as NaN.
 */
import { readFileSync } from 'node:fs'
import pg from 'pg'

const TICKS_PER_SECOND = 100

/** One reading of the database since the previous one. */
export interface DatabaseSample {
  /** CPU time of the database's server processes since the previous sample, ms. */
  readonly cpuMs: number
  readonly deadTuples: number
  readonly tableBytes: number
}

/** Samples one database's server CPU, dead tuples and size. */
export class DatabaseMonitor {
  readonly #client: pg.Client
  readonly #database: string
  readonly #lastTicks = new Map<number, number>()
  #ownPid = -1

  private constructor(client: pg.Client, database: string) {
    this.#client = client
    this.#database = database
  }

  /** Connects to the database to watch. */
  static async open(databaseUrl: string): Promise<DatabaseMonitor> {
    const client = new pg.Client({ connectionString: databaseUrl })
    client.on('error', () => {})
    await client.connect()
    const { rows } = await client.query<{ db: string; pid: number }>(
      'SELECT current_database() AS db, pg_backend_pid() AS pid',
    )
    const monitor = new DatabaseMonitor(client, rows[0]!.db)
    monitor.#ownPid = rows[0]!.pid
    await monitor.sample()
    return monitor
  }

  /** Reads CPU since the last call, and the current dead tuples and size. */
  async sample(): Promise<DatabaseSample> {
    const { rows: procs } = await this.#client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2',
      [this.#database, this.#ownPid],
    )
    let ticks = 0
    // A backend that ended between the listing and the read (a pool closing an idle connection) is
    // skipped, losing its last few ticks; only when no server process can be read is the sample unknown.
    let readable = false
    const alive = new Set<number>()
    for (const { pid } of procs) {
      const now = cpuTicks(pid)
      if (now === null) continue
      readable = true
      alive.add(pid)
      ticks += now - (this.#lastTicks.get(pid) ?? 0)
      this.#lastTicks.set(pid, now)
    }
    for (const pid of this.#lastTicks.keys()) if (!alive.has(pid)) this.#lastTicks.delete(pid)
    const { rows } = await this.#client.query<{ dead: string; bytes: string }>(
      `SELECT coalesce(sum(n_dead_tup), 0) AS dead, coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes
         FROM pg_stat_user_tables`,
    )
    return {
      cpuMs: readable || procs.length === 0 ? (ticks * 1000) / TICKS_PER_SECOND : Number.NaN,
      deadTuples: Number(rows[0]!.dead),
      tableBytes: Number(rows[0]!.bytes),
    }
  }

  /** Closes the monitor's connection. */
  async close(): Promise<void> {
    await this.#client.end().catch(() => {})
  }
}

/** utime + stime of a process in clock ticks, or null when it cannot be read. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return null
  }
}
