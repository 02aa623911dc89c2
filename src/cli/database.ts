/**
 * Opening the chosen database as a `pg` pool: a server through a connection string, or an embedded
 * PostgreSQL (PGlite) kept in a folder, loaded only when asked for.
 */
import { join, resolve } from 'node:path'
import pg from 'pg'
import { DEFAULT_SCHEMA } from '../adapters/postgres/schema-name.js'
import { PGDATA, prepareDataDir } from './data-dir.js'
import { lockDataDir } from './data-dir-lock.js'
import { type DatabaseSettings, PGLITE_INSTALL, PGLITE_RANGE } from './database-settings.js'
import { CliError, type DatabaseTarget } from './errors.js'

/** An open database: its pool, where it is (for messages) and how to let go of it. */
export interface OpenDatabase {
  readonly pool: pg.Pool
  readonly target: DatabaseTarget
  /** One line for people: `PostgreSQL at 127.0.0.1:5432 (database app)` or `embedded PostgreSQL in ...`. */
  readonly description: string
  close(): Promise<void>
}

/** Opens the chosen database as a pool (`max` connections on a server; always 1 when embedded). */
export async function openDatabase(settings: DatabaseSettings, max = 4): Promise<OpenDatabase> {
  if (settings.kind === 'server') {
    const pool = new pg.Pool({ connectionString: settings.url, max, connectionTimeoutMillis: 10_000 })
    // Idle clients losing their connection must not crash the process; the next query reports it.
    pool.on('error', () => {})
    const url = new URL(settings.url)
    const where = `${url.hostname || 'localhost'}:${url.port || '5432'}`
    const user = decodeURIComponent(url.username)
    const database = decodeURIComponent(url.pathname.slice(1)) || user || 'postgres'
    return {
      pool,
      target: {
        where,
        database,
        ...(user !== '' ? { user } : {}),
        schema: settings.schema,
        flags: flags(settings.schema, settings.fromFlag ? '--database-url <url>' : ''),
      },
      description: `PostgreSQL at ${where} (database ${database})`,
      close: () => pool.end(),
    }
  }
  return openEmbedded(settings.dataDir, settings.schema, settings.create)
}

/**
 * Checks that an embedded database can be opened in `dataDir` before anything else is written: PGlite
 * is loaded first (so a missing package leaves no folder behind), then the folder is checked, and
 * made with `create` (see `prepareDataDir`).
 */
export async function prepareEmbedded(dataDir: string, create: boolean): Promise<void> {
  await loadPGlite()
  await prepareDataDir(dataDir, create)
}

async function openEmbedded(dataDir: string, schema: string, create: boolean): Promise<OpenDatabase> {
  const modules = await loadPGlite()
  await prepareDataDir(dataDir, create)
  const release = await lockDataDir(dataDir)
  let pglite: InstanceType<typeof modules.PGlite> | undefined
  try {
    pglite = new modules.PGlite(join(resolve(dataDir), PGDATA))
    await pglite.waitReady
  } catch (error) {
    await pglite?.close().catch(() => {})
    await release()
    const reason = String((error as Error).message).split('\n')[0]
    throw new CliError(`cannot open the embedded PostgreSQL in ${dataDir}: ${reason}`, {
      cause: error,
    })
  }
  const db = pglite
  const pool = modules.createPGlitePool({ pglite: db })
  const where = `embedded PostgreSQL in ${dataDir}`
  return {
    pool,
    target: { where, schema, flags: flags(schema, `--data-dir ${dataDir}`) },
    description: where,
    close: async () => {
      await pool.end().catch(() => {})
      await db.close().catch(() => {})
      await release()
    },
  }
}

/** Loads PGlite and the pool on it, with a clear message when the optional package is missing. */
async function loadPGlite() {
  try {
    const [{ PGlite }, { createPGlitePool }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('../adapters/postgres/pglite-pool.js'),
    ])
    return { PGlite, createPGlitePool }
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error
    throw new CliError(
      `the embedded PostgreSQL needs the package @electric-sql/pglite (${PGLITE_RANGE}): run \`${PGLITE_INSTALL}\`, or set DATABASE_URL to use a PostgreSQL server`,
      { cause: error },
    )
  }
}

/** The flags that select the same database again, for the commands a message suggests. */
function flags(schema: string, database: string): string {
  return [database, schema === DEFAULT_SCHEMA ? '' : `--schema ${schema}`].filter((f) => f !== '').join(' ')
}
