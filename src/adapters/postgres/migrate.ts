/**
 * Schema migrations: numbered, forward-only plain SQL files shipped in the package's `migrations/`
 * folder. Each missing one is applied in its own transaction while the migrating connection holds a
 * session advisory lock keyed by the schema, so many processes starting at once apply each exactly
 * once (the others wait, then find nothing left to do).
 */
import { readdir, readFile } from 'node:fs/promises'
import type pg from 'pg'
import { InvalidArgumentError, SchemaNotMigratedError, SchemaTooNewError } from '../../core/domain/errors.js'
import { packageRoot } from '../../package-root.js'
import { isUnavailable, translateError } from './errors.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { quoteIdentifier, validateSchemaName } from './schema-name.js'
import { type SqlNames, sqlNames } from './sql-names.js'

/** One migration file. */
export interface Migration {
  /** The number the file name starts with. */
  readonly version: number
  /** The file name without `.sql`, e.g. `001_initial`. */
  readonly name: string
  /** The SQL text with `:schema` still in it. */
  readonly sql: string
}

/** The `migrations/` folder of this package (found from `src/` under tsx/vitest, `dist/esm/` and `dist/cjs/`). */
export const MIGRATIONS_DIR = new URL(
  'migrations/',
  packageRoot(import.meta.url) ?? new URL('../../../', import.meta.url),
)

const FILE_NAME = /^(\d+)_[a-z0-9_]+\.sql$/

/** Reads the migration files in version order. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE_NAME.test(f))
  const migrations = await Promise.all(
    files.map(async (file) => ({
      version: Number(FILE_NAME.exec(file)?.[1]),
      name: file.slice(0, -'.sql'.length),
      sql: await readFile(new URL(file, dir), 'utf8'),
    })),
  )
  return migrations.sort((a, b) => a.version - b.version)
}

/** Puts the quoted schema name in place of every `:schema` token of a migration. */
export function renderMigration(sql: string, names: SqlNames): string {
  return sql.replace(/(?<![:\w]):schema\b/g, names.quotedSchema)
}

/**
 * The migrations already applied in a schema, name by version (empty when the schema or its
 * bookkeeping table is missing). Throws `SchemaTooNewError` when one of them is not among `known`:
 * newer code migrated this schema, and this code must not run on tables it does not understand.
 */
export async function appliedVersions(
  target: SqlTarget,
  names: SqlNames,
  known: readonly Migration[],
): Promise<Map<number, string>> {
  const [exists] = await queryRows<{ exists: boolean }>(target, {
    text: 'SELECT to_regclass($1::text) IS NOT NULL AS exists',
    values: [names.migrations],
  })
  if (!exists?.exists) return new Map()
  const rows = await queryRows<{ version: number; name: string }>(target, {
    text: `SELECT version, name FROM ${names.migrations} ORDER BY version`,
    values: [],
  })
  const knownVersions = new Set(known.map((m) => m.version))
  const unknown = rows.filter((r) => !knownVersions.has(r.version)).map((r) => r.name)
  if (unknown.length > 0) {
    throw new SchemaTooNewError(
      `Conveyor's schema "${names.schema}" was migrated by a newer version of Conveyor (it has ${unknown.join(', ')}, which this code does not know): upgrade conveyor-jobs in this application to the version the other processes run. Nothing was changed.`,
    )
  }
  return new Map(rows.map((r) => [r.version, r.name]))
}

/** Names of the migrations a `migrate` would apply now, in order (a dry run). */
export async function pendingMigrations(
  pool: pg.Pool,
  names: SqlNames,
  migrations?: readonly Migration[],
): Promise<string[]> {
  try {
    const all = migrations ?? (await loadMigrations())
    const applied = await appliedVersions(pool, names, all)
    return all.filter((m) => !applied.has(m.version)).map((m) => m.name)
  } catch (error) {
    throw translateError(error, names.schema, 'listing pending migrations')
  }
}

/** Applies the missing migrations, each in its own transaction, under the schema's advisory lock. */
export async function migrate(
  pool: pg.Pool,
  names: SqlNames,
  migrations?: readonly Migration[],
): Promise<{ applied: string[] }> {
  const all = migrations ?? (await loadMigrations())
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw translateError(error, names.schema, 'connecting to migrate')
  }
  let broken: Error | undefined
  // A checked-out client has no 'error' listener of the pool's: a connection the server ends while
  // migrating would emit an unheard 'error' and crash the process. The running query fails anyway.
  const onClientError = (error: Error) => {
    broken ??= error
  }
  client.on('error', onClientError)
  try {
    await client.query('SELECT pg_advisory_lock($1::int, 0)', [names.migrationLockSpace])
    try {
      // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
      const schema = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1::text', [names.schema])
      if (schema.rowCount === 0) await client.query(`CREATE SCHEMA ${names.quotedSchema}`)
      await client.query(bookkeepingTableSql(names))
      const applied = await appliedVersions(client, names, all)
      const done: string[] = []
      for (const migration of all) {
        if (applied.has(migration.version)) continue
        await applyOne(client, names, migration)
        done.push(migration.name)
      }
      return { applied: done }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::int, 0)', [names.migrationLockSpace])
    }
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error))
    throw translateError(error, names.schema, 'migrating')
  } finally {
    // A connection that failed mid-way may still hold the lock or an open transaction: discard it.
    client.removeListener('error', onClientError)
    client.release(broken)
  }
}

/** The table that records which migrations a schema has. */
function bookkeepingTableSql(names: SqlNames): string {
  return `CREATE TABLE IF NOT EXISTS ${names.migrations} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`
}

/**
 * The SQL of every migration after version `after` (default: all) for `schema`, for teams that apply
 * SQL with their own migration tool instead of `migrate()`. Apply it once, in one transaction. It
 * takes the same advisory lock as `migrate()` and records each step in the schema's `migrations`
 * table, so the store then finds the schema migrated. Empty when nothing comes after `after`.
 */
export async function migrationSql(
  schema: string,
  options: { readonly after?: number } = {},
): Promise<string> {
  const names = sqlNames(validateSchemaName(schema))
  const after = options.after ?? 0
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new InvalidArgumentError(
      `migrationSql: after must be a migration version (an integer >= 0); got ${String(after)}.`,
    )
  }
  const steps = (await loadMigrations()).filter((m) => m.version > after)
  if (steps.length === 0) return ''
  const parts = [
    `-- Conveyor migrations ${steps.map((m) => m.name).join(', ')} for schema ${names.quotedSchema}: apply once, in one transaction.`,
    `SELECT pg_advisory_xact_lock(${names.migrationLockSpace}, 0);`,
    `CREATE SCHEMA IF NOT EXISTS ${names.quotedSchema};`,
    `${bookkeepingTableSql(names)};`,
  ]
  for (const m of steps) {
    parts.push(
      `-- ${m.name}`,
      renderMigration(m.sql, names).trim(),
      `INSERT INTO ${names.migrations} (version, name) VALUES (${m.version}, '${m.name}');`,
    )
  }
  return `${parts.join('\n\n')}\n`
}

async function applyOne(client: pg.PoolClient, names: SqlNames, migration: Migration): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query(renderMigration(migration.sql, names))
    await client.query(`INSERT INTO ${names.migrations} (version, name) VALUES ($1, $2)`, [
      migration.version,
      migration.name,
    ])
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (isUnavailable(error)) throw error
    throw new Error(
      `Migration ${migration.name} failed in schema ${quoteIdentifier(names.schema)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}

/** Throws `SchemaNotMigratedError` unless every known migration is applied in the schema. */
export async function assertMigrated(
  pool: pg.Pool,
  names: SqlNames,
  migrations?: readonly Migration[],
): Promise<void> {
  const pending = await pendingMigrations(pool, names, migrations)
  if (pending.length === 0) return
  throw new SchemaNotMigratedError(
    `Conveyor's schema "${names.schema}" is not migrated (pending: ${pending.join(', ')}): run queue.migrate() or \`conveyor migrate\` first.`,
  )
}
