import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import {
  loadMigrations,
  migrate,
  migrationSql,
  pendingMigrations,
  renderMigration,
} from '../../src/adapters/postgres/migrate.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import {
  InvalidArgumentError,
  SchemaNotMigratedError,
  SchemaTooNewError,
  StorageUnavailableError,
} from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { createTestSchema } from '../support/database.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, newJob, T0 } from './fixture.js'

describePostgres('migrations', () => {
  let pool: pg.Pool
  const schemas: ReturnType<typeof createTestSchema>[] = []
  const freshSchema = () => {
    const s = createTestSchema(databaseUrl(), 'conveyor_migrate')
    schemas.push(s)
    return s.schema
  }

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 4 })
  })
  afterAll(async () => {
    for (const s of schemas) await s.drop()
    await pool.end()
  })

  it('fails with a typed error, without crashing the process, when its connection is terminated mid-migration', async () => {
    const schema = freshSchema()
    const marker = `conveyor_migrate_kill_${schema}`
    const slow = [{ version: 1, name: '001_slow', sql: `SELECT pg_sleep(30) AS "${marker}"` }]
    const running = migrate(pool, sqlNames(schema), slow).then(
      () => null,
      (error: unknown) => error,
    )
    await waitFor(
      async () =>
        (await pool.query('SELECT 1 FROM pg_stat_activity WHERE query LIKE $1::text', [`%"${marker}"%`]))
          .rowCount === 1,
      { timeoutMs: 10_000, message: 'the slow migration to start' },
    )
    await pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1::text AND pid <> pg_backend_pid()`,
      [`%"${marker}"%`],
    )
    const error = await running
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as Error).message).toMatch(/^PostgreSQL is unavailable while migrating: /)
  })

  it('names every pending migration of a schema whose tables exist but whose last migrations are not recorded', async () => {
    const schema = freshSchema()
    await new PostgresStore({ pool, schema }).migrate()
    const all = await loadMigrations()
    const lastTwo = all.slice(-2).map((m) => m.name)
    await pool.query(`DELETE FROM "${schema}".migrations WHERE version >= $1`, [all.at(-2)!.version])
    const insert = new PostgresStore({ pool, schema }).insertJobs({ jobs: [newJob()], now: T0 })
    await expect(insert).rejects.toBeInstanceOf(SchemaNotMigratedError)
    await expect(insert).rejects.toThrow(`(pending: ${lastTwo.join(', ')}): run queue.migrate()`)
  })

  it('rolls a failing migration back whole, names it and the schema, keeps the ones before it, and applies it once fixed', async () => {
    const schema = freshSchema()
    const names = sqlNames(schema)
    const first = { version: 1, name: '001_first', sql: 'CREATE TABLE :schema.first_table (x int)' }
    const broken = {
      version: 2,
      name: '002_second',
      sql: 'CREATE TABLE :schema.second_table (x int); SELECT 1 / 0',
    }
    expect(await pendingMigrations(pool, names, [first, broken])).toEqual(['001_first', '002_second'])
    const error = await migrate(pool, names, [first, broken]).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe(
      `Migration 002_second failed in schema "${schema}": division by zero`,
    )
    expect(((error as Error).cause as { code?: string }).code).toBe('22012')
    const tables = async () =>
      (
        await pool.query<{ t: string }>(
          'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1::text ORDER BY 1',
          [schema],
        )
      ).rows.map((r) => r.t)
    expect(await tables()).toEqual(['first_table', 'migrations'])
    const fixed = { ...broken, sql: 'CREATE TABLE :schema.second_table (x int)' }
    expect(await migrate(pool, names, [first, fixed])).toEqual({ applied: ['002_second'] })
    expect(await tables()).toEqual(['first_table', 'migrations', 'second_table'])
  })

  it('ships numbered migrations in order, starting at 001', async () => {
    const migrations = await loadMigrations()
    expect(migrations[0]?.name).toBe('001_initial')
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1))
  })

  it("commits a migration's SQL and its bookkeeping row together: a failing row leaves no DDL behind", async () => {
    const schema = freshSchema()
    const a = { version: 1, name: '001_a', sql: 'CREATE TABLE :schema.a_table (x int)' }
    // The same version again: its SQL runs, then its row in the migrations table conflicts.
    const b = { version: 1, name: '001_b', sql: 'CREATE TABLE :schema.b_table (x int)' }
    await expect(migrate(pool, sqlNames(schema), [a, b])).rejects.toThrow(/^Migration 001_b failed/)
    const tables = await pool.query<{ t: string }>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1::text ORDER BY 1',
      [schema],
    )
    expect(tables.rows.map((r) => r.t)).toEqual(['a_table', 'migrations'])
  })

  it('says which step found the server unreachable: connecting to migrate, listing pending migrations', async () => {
    // Nothing listens on port 1: the connection is refused at once.
    const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', max: 1 })
    try {
      const names = sqlNames(freshSchema())
      const migrating = migrate(unreachable, names)
      await expect(migrating).rejects.toBeInstanceOf(StorageUnavailableError)
      await expect(migrating).rejects.toThrow(/^PostgreSQL is unavailable while connecting to migrate: /)
      await expect(pendingMigrations(unreachable, names)).rejects.toThrow(
        /^PostgreSQL is unavailable while listing pending migrations: /,
      )
    } finally {
      await unreachable.end()
    }
  })

  it('loads only the numbered .sql files of a folder, in version order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conveyor-migrations-'))
    try {
      const files = {
        // By number, not by name: 9 before 10.
        '10_tenth.sql': 'SELECT 10',
        '9_ninth.sql': 'SELECT 9',
        'README.md': 'not SQL',
        'x003_prefixed.sql': 'SELECT 3',
        '004_backup.sql.orig': 'SELECT 4',
        '005_Upper.sql': 'SELECT 5',
      }
      for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql)
      expect(await loadMigrations(pathToFileURL(`${dir}/`))).toEqual([
        { version: 9, name: '9_ninth', sql: 'SELECT 9' },
        { version: 10, name: '10_tenth', sql: 'SELECT 10' },
      ])
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  it('substitutes the quoted schema name for :schema, leaving casts alone', () => {
    expect(renderMigration("SELECT '{}'::text[], :schema.jobs, x:schema", sqlNames('abc'))).toBe(
      `SELECT '{}'::text[], "abc".jobs, x:schema`,
    )
  })

  it('applies each migration exactly once when ten processes start at once', async () => {
    const schema = freshSchema()
    const pools = Array.from({ length: 10 }, () => new pg.Pool({ connectionString: databaseUrl(), max: 1 }))
    try {
      const stores = pools.map((p) => new PostgresStore({ pool: p, schema }))
      const results = await Promise.all(stores.map((s) => s.migrate()))
      const applied = results.flatMap((r) => r.applied)
      expect(applied).toEqual((await loadMigrations()).map((m) => m.name))
      const rows = await pool.query(`SELECT version, name FROM "${schema}".migrations ORDER BY version`)
      expect(rows.rows.map((r) => r.name)).toEqual(applied)
      expect(await stores[0]!.pendingMigrations()).toEqual([])
      expect(await stores[0]!.migrate()).toEqual({ applied: [] })
    } finally {
      await Promise.all(pools.map((p) => p.end()))
    }
  })

  it('lists pending migrations without applying them (dry run)', async () => {
    const schema = freshSchema()
    const store = new PostgresStore({ pool, schema })
    expect(await store.pendingMigrations()).toEqual((await loadMigrations()).map((m) => m.name))
    const exists = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
    expect(exists.rowCount).toBe(0)
  })

  it('fails with SchemaNotMigratedError on an unmigrated or partly migrated schema, then works after migrate', async () => {
    const schema = freshSchema()
    const store = new PostgresStore({ pool, schema })
    const attempt = store.insertJobs({ jobs: [newJob()], now: T0 })
    await expect(attempt).rejects.toBeInstanceOf(SchemaNotMigratedError)
    await expect(attempt).rejects.toThrow(/queue\.migrate\(\)|conveyor migrate/)
    await pool.query(`CREATE SCHEMA "${schema}"`)
    await pool.query(`CREATE TABLE "${schema}".migrations (version integer PRIMARY KEY, name text NOT NULL)`)
    await expect(
      store.claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 1,
        strategy: 'priority',
        now: T0,
        workerId: 'w',
      }),
    ).rejects.toBeInstanceOf(SchemaNotMigratedError)
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
    await store.migrate()
    expect(await store.insertJobs({ jobs: [newJob()], now: T0 })).toHaveLength(1)
  })

  it('refuses a schema migrated by newer code: no statement runs, migrate applies nothing, the error says to upgrade', async () => {
    const schema = freshSchema()
    await new PostgresStore({ pool, schema }).migrate()
    const jobsBefore = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)
    await pool.query(
      `INSERT INTO "${schema}".migrations (version, name) VALUES (998, '998_from_the_future'), (999, '999_also_new')`,
    )

    const store = new PostgresStore({ pool, schema })
    const insert = store.insertJobs({ jobs: [newJob()], now: T0 })
    await expect(insert).rejects.toBeInstanceOf(SchemaTooNewError)
    await expect(insert).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' })
    await expect(insert).rejects.toThrow(/it has 998_from_the_future, 999_also_new,.*upgrade conveyor-jobs/s)
    await expect(store.migrate()).rejects.toBeInstanceOf(SchemaTooNewError)
    await expect(store.pendingMigrations()).rejects.toBeInstanceOf(SchemaTooNewError)
    const jobsAfter = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`)
    expect(jobsAfter.rows).toEqual(jobsBefore.rows)

    // Once the newer code's migration is gone again (a rollback of the upgrade), the store works.
    await pool.query(`DELETE FROM "${schema}".migrations WHERE version >= 998`)
    expect(await new PostgresStore({ pool, schema }).insertJobs({ jobs: [newJob()], now: T0 })).toHaveLength(
      1,
    )
  })

  it('start() refuses a schema migrated by newer code, also with maintenance off (no worker runs on it)', async () => {
    const schema = freshSchema()
    await new PostgresStore({ pool, schema }).migrate()
    await pool.query(
      `INSERT INTO "${schema}".migrations (version, name) VALUES (998, '998_from_the_future'), (999, '999_also_new')`,
    )
    for (const maintenance of [{ enabled: false }, {}]) {
      const queue = createPostgresQueue({ pool, schema, maintenance, scheduler: { enabled: false } })
      queue.register(defineJob<Record<string, never>>({ kind: 'test' }), async () => {})
      await expect(queue.start()).rejects.toBeInstanceOf(SchemaTooNewError)
      await queue.shutdown({ graceMs: 0 })
    }
  })

  it('gives the migration SQL for a schema, so a team can apply it with its own tool; the store then finds it migrated', async () => {
    const schema = freshSchema()
    const sql = await migrationSql(schema)
    expect(sql).not.toMatch(/:schema\b/)
    expect(sql).toMatch(
      new RegExp(`^-- Conveyor migrations 001_initial, 002_[a-z_]+, .* for schema "${schema}": apply once`),
    )
    expect(sql).toContain('\n\n-- 001_initial\n\n')
    // The lock migrate() takes, so that a migrating process and the file do not run at once.
    expect(sql).toContain(`SELECT pg_advisory_xact_lock(${sqlNames(schema).migrationLockSpace}, 0);`)
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(sql) // what a migration tool does with one file
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    const store = new PostgresStore({ pool, schema })
    expect(await store.pendingMigrations()).toEqual([])
    expect(await store.insertJobs({ jobs: [newJob()], now: T0 })).toHaveLength(1)
    expect((await store.migrate()).applied).toEqual([])

    // Only what comes after a version, for the next release's file; every step is recorded as applied.
    const all = await loadMigrations()
    const last = all[all.length - 1]!
    const later = await migrationSql(schema, { after: last.version - 1 })
    expect(later).toContain(`'${last.name}'`)
    for (const m of all.slice(0, -1)) expect(later).not.toContain(`'${m.name}'`)
    expect(await migrationSql(schema, { after: last.version })).toBe('')
    await expect(migrationSql('Bad Name')).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(migrationSql(schema, { after: -1 })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(migrationSql(schema, { after: 1.5 })).rejects.toThrow(
      'migrationSql: after must be a migration version (an integer >= 0); got 1.5.',
    )
  })

  it('maps a table dropped under a running store to SchemaNotMigratedError', async () => {
    const schema = freshSchema()
    const store = new PostgresStore({ pool, schema })
    await store.migrate()
    await store.getJob({ id: '1' })
    await pool.query(`DROP TABLE "${schema}".jobs CASCADE`)
    await expect(store.getJob({ id: '1' })).rejects.toBeInstanceOf(SchemaNotMigratedError)
  })

  it.each(['', 'Conveyor', '1abc', 'a-b', 'a"b', 'x'.repeat(64), 'public; drop table x', 42])(
    'rejects the schema name %j',
    (name) => {
      expect(() => new PostgresStore({ pool, schema: name as string })).toThrow(InvalidArgumentError)
    },
  )

  it('accepts a 63-character schema name and names prepared statements within 63 bytes', async () => {
    const schema = `z${'x'.repeat(62)}`
    schemas.push({
      schema,
      drop: async () => void (await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
    })
    const store = new PostgresStore({ pool, schema })
    await store.migrate()
    expect(await store.insertJobs({ jobs: [newJob()], now: T0 })).toHaveLength(1)
    const names = sqlNames(schema)
    expect(names.statementPrefix.length).toBeLessThan(20)
    expect(names.jobsChannel.length).toBeLessThanOrEqual(63)
    expect(names.cancelChannel).toMatch(/^zx+_[0-9a-z]+_cancel$/)
  })
})
