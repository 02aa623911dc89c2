/**
 * Which database a command uses: `--database-url`, else `--data-dir` (an embedded PostgreSQL),
 * else `DATABASE_URL`, else the demo's embedded default. Only the choice: opening is `database.ts`.
 */
import { DEFAULT_SCHEMA, validateSchemaName } from '../adapters/postgres/schema-name.js'
import { booleanFlag, type FlagValues, type OptionSpec, stringFlag } from './args.js'
import type { EnvironmentConfig } from './config.js'
import { UsageError } from './errors.js'

/** The versions of @electric-sql/pglite the embedded database works with (package.json's peer range). */
export const PGLITE_RANGE = '0.5.x'

/** The command that installs it in an application, as a development dependency (the demo's use). */
export const PGLITE_INSTALL = 'npm install -D @electric-sql/pglite@0.5'

/** The flags that choose the database, shared by every command that uses one. */
export const DATABASE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'database-url': {
    type: 'string',
    value: '<url>',
    description: 'PostgreSQL connection URL (default: $DATABASE_URL)',
  },
  'data-dir': {
    type: 'string',
    value: '<dir>',
    description: 'use an embedded PostgreSQL (PGlite) stored in <dir> instead of a server',
  },
  create: {
    type: 'boolean',
    description: 'with --data-dir: make the folder and a new embedded database when there is none',
  },
  schema: {
    type: 'string',
    value: '<name>',
    description: `schema of Conveyor's tables (default: ${DEFAULT_SCHEMA})`,
  },
}

/** A chosen database: a server by URL, or an embedded one in a folder. */
export type DatabaseSettings =
  | { readonly kind: 'server'; readonly url: string; readonly schema: string; readonly fromFlag: boolean }
  | {
      readonly kind: 'embedded'
      readonly dataDir: string
      readonly schema: string
      /** Make the folder and a new database when missing (else a folder without one is refused). */
      readonly create: boolean
    }

/**
 * Chooses the database from the flags and environment; `embeddedDir` is the demo's folder, created
 * when missing (an explicit `--data-dir` is created only with `--create`).
 */
export function databaseSettings(
  values: FlagValues,
  env: EnvironmentConfig,
  command: string,
  defaults: { readonly embeddedDir?: string; readonly schema?: string } = {},
): DatabaseSettings {
  const urlFlag = stringFlag(values, 'database-url')
  const dataDir = stringFlag(values, 'data-dir')
  const schema = stringFlag(values, 'schema') ?? defaults.schema ?? DEFAULT_SCHEMA
  try {
    validateSchemaName(schema)
  } catch (error) {
    throw new UsageError(`--schema: ${(error as Error).message}`, command)
  }
  if (urlFlag !== undefined && dataDir !== undefined) {
    throw new UsageError('give either --database-url or --data-dir, not both', command)
  }
  const create = booleanFlag(values, 'create')
  if (create && dataDir === undefined) {
    throw new UsageError(
      '--create only applies to --data-dir (it makes a new embedded database there)',
      command,
    )
  }
  if (dataDir !== undefined) return { kind: 'embedded', dataDir, schema, create }
  const url = urlFlag ?? env.databaseUrl
  if (url !== undefined) {
    checkUrl(url, urlFlag !== undefined ? '--database-url' : 'DATABASE_URL', command)
    return { kind: 'server', url, schema, fromFlag: urlFlag !== undefined }
  }
  if (defaults.embeddedDir !== undefined) {
    return { kind: 'embedded', dataDir: defaults.embeddedDir, schema, create: true }
  }
  throw new UsageError(
    "no database configured: set DATABASE_URL or pass --database-url postgres://user:password@host:5432/db (or --data-dir <dir> for an embedded database, such as the demo's .demo-data)",
    command,
  )
}

function checkUrl(url: string, source: string, command: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(`${source} is not a URL: expected postgres://user:password@host:5432/db`, command)
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(
      `${source} must start with postgres:// or postgresql://, got ${parsed.protocol}//...`,
      command,
    )
  }
}
