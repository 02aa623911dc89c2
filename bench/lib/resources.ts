/**
 * Fresh databases and Redis dbs for each run, and the cleanup that removes them (and every worker
 * child) even when a run fails, times out or the harness is interrupted.
 */
import type { ChildProcess } from 'node:child_process'
import pg from 'pg'
import type { RedisLocation } from './types.js'

const DATABASE_PREFIX = 'bench_p'

/** Creates and drops the databases of one harness process; names carry the pid so leftovers are found. */
export class DatabaseFactory {
  readonly #adminUrl: string
  readonly #live = new Set<string>()
  #counter = 0

  constructor(adminUrl: string) {
    this.#adminUrl = adminUrl
  }

  /** Drops databases left by harness processes that no longer run. */
  async dropStale(): Promise<string[]> {
    const names = await this.#admin(async (c) => {
      const { rows } = await c.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`${DATABASE_PREFIX}%`],
      )
      return rows.map((r) => r.datname)
    })
    const dropped: string[] = []
    for (const name of names) {
      const pid = Number(/^bench_p(\d+)_/.exec(name)?.[1])
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue
      await this.drop(name)
      dropped.push(name)
    }
    return dropped
  }

  /** Creates an empty database named after the system and returns its name and URL. */
  async create(system: string): Promise<{ name: string; url: string }> {
    const name = `${DATABASE_PREFIX}${process.pid}_${++this.#counter}_${system.replace(/[^a-z0-9]/gi, '_')}`
    this.#live.add(name)
    await this.#admin((c) => c.query(`CREATE DATABASE ${quote(name)}`))
    const url = new URL(this.#adminUrl)
    url.pathname = `/${name}`
    return { name, url: url.toString() }
  }

  /** Drops a database, ending any connection still open to it. */
  async drop(name: string): Promise<void> {
    await this.#admin((c) => c.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`))
    this.#live.delete(name)
  }

  /** Drops every database this process created and has not dropped yet. */
  async dropAll(): Promise<void> {
    for (const name of [...this.#live]) await this.drop(name).catch(() => {})
  }

  async #admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.#adminUrl, connectionTimeoutMillis: 5000 })
    client.on('error', () => {})
    await client.connect()
    try {
      return await fn(client)
    } finally {
      await client.end().catch(() => {})
    }
  }
}

/** Whether the PostgreSQL server at `url` answers, with the reason when it does not. */
export async function checkPostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return null
  } catch (error) {
    return `PostgreSQL at ${redactUrl(url)} does not answer: ${(error as Error).message}`
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * The database factory of a stand-alone bench script, on `$BENCH_DATABASE_URL` or the local server;
 * null (the reason written to stderr) when that server does not answer.
 */
export async function benchDatabases(): Promise<DatabaseFactory | null> {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const problem = await checkPostgres(adminUrl)
  if (problem) {
    process.stderr.write(`${problem}\n`)
    return null
  }
  return new DatabaseFactory(adminUrl)
}

/** Whether Redis answers at `location`, with the reason when it does not. */
export async function checkRedis(location: RedisLocation): Promise<string | null> {
  try {
    const { Redis } = await import('ioredis')
    const redis = new Redis({
      host: location.host,
      port: location.port,
      db: location.db,
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    redis.on('error', () => {})
    try {
      await redis.connect()
      await redis.ping()
      return null
    } finally {
      redis.disconnect()
    }
  } catch (error) {
    return `Redis at ${location.host}:${location.port} does not answer: ${(error as Error).message}`
  }
}

/** Empties the Redis logical db the harness uses. */
export async function flushRedis(location: RedisLocation): Promise<void> {
  const { Redis } = await import('ioredis')
  const redis = new Redis({ host: location.host, port: location.port, db: location.db, lazyConnect: true })
  redis.on('error', () => {})
  try {
    await redis.connect()
    await redis.flushdb()
  } finally {
    redis.disconnect()
  }
}

/** Worker children alive right now; killed on any exit path. */
export const liveChildren = new Set<ChildProcess>()

/** Kills every live worker child (SIGKILL, by its own pid). */
export function killChildren(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  liveChildren.clear()
}

/** Quotes a PostgreSQL identifier. */
export function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(invalid URL)'
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
