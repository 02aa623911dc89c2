/**
 * The Postgres store's small helpers on a real server: SQL names and channel names
 * (sql-names.ts), the store's own pool (store-options.ts), the claim pool (claim-pool.ts) and
 * running a statement on a caller's handle or a `pg` client (queryable.ts).
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { createClaimPool } from '../../src/adapters/postgres/claim-pool.js'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { queryRows } from '../../src/adapters/postgres/queryable.js'
import { channelName, fromMs, regclassLiteral, sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { InvalidArgumentError, SchemaNotMigratedError } from '../../src/core/domain/errors.js'
import { createTestSchema } from '../support/database.js'
import { databaseUrl, describePostgres, usePool } from './fixture.js'

describePostgres('the Postgres store helpers', () => {
  const db = usePool()

  it('keeps channel names within 63 bytes, distinct for long schemas sharing a prefix', async () => {
    const exact = 'a'.repeat(58)
    expect(channelName(exact, 'jobs')).toBe(`${exact}_jobs`)
    const longA = `${'b'.repeat(61)}_a`
    const longB = `${'b'.repeat(61)}_b`
    const channels = [longA, longB].flatMap((s) => [channelName(s, 'jobs'), channelName(s, 'cancel')])
    for (const channel of channels) {
      expect(channel.length, channel).toBe(63)
      expect(channel.startsWith('b'.repeat(40)), channel).toBe(true)
      // PostgreSQL refuses a channel of 64 bytes or more.
      await db.pool.query('SELECT pg_notify($1, $2)', [channel, ''])
    }
    expect(channels[0]).toMatch(/_jobs$/)
    expect(channels[1]).toMatch(/_cancel$/)
    expect(new Set(channels).size).toBe(4)
    const names = sqlNames(longA)
    expect([names.jobsChannel, names.cancelChannel]).toEqual(channels.slice(0, 2))
    expect(sqlNames('s').jobsChannel).toBe('s_jobs')
    expect(sqlNames('s').cancelChannel).toBe('s_cancel')
  })

  it('prefixes statement names with a short name of the schema', () => {
    const prefixes = ['conveyor', 'other', 'a'.repeat(63)].map((s) => sqlNames(s).statementPrefix)
    for (const prefix of prefixes) expect(prefix).toMatch(/^cv[0-9a-z]{1,7}_$/)
    expect(new Set(prefixes).size).toBe(3)
  })

  it('converts epoch ms to timestamptz, parenthesizing an expression', async () => {
    expect(fromMs('$1')).toBe('to_timestamp($1::float8 / 1000)')
    const { rows } = await db.pool.query(
      `SELECT ${fromMs('$1')} AS a, ${fromMs('$1 + $2')} AS b`,
      [1000, 1000],
    )
    expect(rows[0].a.getTime()).toBe(1000)
    expect(rows[0].b.getTime()).toBe(2000)
    expect(regclassLiteral('"s".jobs_id_seq')).toBe(`'"s".jobs_id_seq'::regclass`)
    expect(() => regclassLiteral(`"s".x'; DROP TABLE t; --`)).toThrow(/unexpected quote/)
  })

  it('opens its own pool from a connection string: its size, JIT off, a timeout, and its errors reported', async () => {
    const errors: unknown[] = []
    const sized = new PostgresStore({
      connectionString: databaseUrl(),
      maxConnections: 3,
      onError: (e) => errors.push(e),
    })
    const plain = new PostgresStore({ connectionString: databaseUrl() })
    try {
      expect(sized.pool.options.max).toBe(3)
      expect(plain.pool.options.max).toBe(10)
      expect(sized.pool.options.connectionTimeoutMillis).toBe(10_000)
      const { rows } = await sized.pool.query('SHOW jit')
      expect(rows[0].jit).toBe('off')
      const idle = new Error('idle client lost')
      sized.pool.emit('error', idle, {} as pg.PoolClient)
      expect(errors).toEqual([idle])
      // Without onError an idle client's error is still listened to, and dropped.
      expect(() => plain.pool.emit('error', idle, {} as pg.PoolClient)).not.toThrow()
    } finally {
      await sized.close()
      await plain.close()
    }
    // An empty variable (docker-compose's unset one) says so too.
    expect(() => new PostgresStore({ connectionString: '' })).toThrow(
      /connectionString is empty .*DATABASE_URL/,
    )
    // connectionString: process.env.DATABASE_URL with the variable unset says so.
    expect(() => new PostgresStore({ connectionString: undefined })).toThrow(
      /connectionString is undefined .*DATABASE_URL/,
    )
    expect(() => createPostgresQueue({ connectionString: undefined })).toThrow(
      /connectionString is undefined .*DATABASE_URL/,
    )
    expect(() => createPostgresQueue({})).toThrow(/needs a pg Pool .* or a connection string/)
    // Another database's URL is refused at once, not after a failed connection to its host.
    // What pg reads is accepted: socket:// (a socket with credentials) and pg:// as well.
    for (const url of ['socket://user:pass@/var/run/postgresql?db=app', 'pg://user@localhost/app']) {
      const store = new PostgresStore({ connectionString: url })
      await store.close()
    }
    for (const url of ['mysql://x@y/z', 'redis://localhost:6379'])
      expect(() => new PostgresStore({ connectionString: url })).toThrow(
        /connectionString must be a PostgreSQL URL \(postgres:\/\/ or postgresql:\/\/\); the one given starts with (mysql|redis):\/\//,
      )
    expect(() => new PostgresStore({ pool: { connect() {} } as unknown as pg.Pool })).toThrow(/pg Pool/)
    expect(() => new PostgresStore({ pool: { query() {} } as unknown as pg.Pool })).toThrow(/pg Pool/)
  })

  it('opens the claim pool with the main pool settings plus its own, two connections, errors reported', async () => {
    const main = new pg.Pool({ connectionString: databaseUrl(), max: 4, options: '-c work_mem=8MB' })
    const errors: unknown[] = []
    const claims = createClaimPool(main, (e) => errors.push(e))
    try {
      expect(claims).not.toBeNull()
      expect(claims!.options.max).toBe(2)
      expect(claims!.options.allowExitOnIdle).toBe(true)
      const { rows } = await claims!.query(
        "SELECT current_setting('work_mem') AS work_mem, current_setting('synchronous_commit') AS sync, current_setting('jit') AS jit",
      )
      expect(rows[0]).toEqual({ work_mem: '8MB', sync: 'off', jit: 'off' })
      const idle = new Error('idle claim client lost')
      claims!.emit('error', idle, {} as pg.PoolClient)
      expect(errors).toEqual([idle])
      // Without onError an idle client's error is still listened to (the pool would crash the process otherwise).
      const silent = createClaimPool(main, undefined)
      expect(() => silent!.emit('error', idle, {} as pg.PoolClient)).not.toThrow()
      await silent!.end()
      class OtherClient extends pg.Client {}
      expect(createClaimPool(new pg.Pool({ Client: OtherClient }), undefined)).toBeNull()
      expect(createClaimPool({} as pg.Pool, undefined)).toBeNull()
      const same = createClaimPool(
        new pg.Pool({ Client: pg.Client, connectionString: databaseUrl() }),
        undefined,
      )
      expect(same).not.toBeNull()
      await same!.end()
    } finally {
      await claims?.end()
      await main.end()
    }
  })

  it('runs a statement on a caller handle whatever shape of rows it returns, and prepares it on a pg client', async () => {
    const statement = { name: 'helpers_one', text: 'SELECT $1::int AS n', values: [1] }
    expect(await queryRows({ query: async () => [{ n: 1 }] }, statement)).toEqual([{ n: 1 }])
    expect(await queryRows({ query: async () => ({ rows: [{ n: 2 }] }) }, statement)).toEqual([{ n: 2 }])
    await expect(queryRows({ query: async () => ({ rowCount: 1 }) }, statement)).rejects.toThrow(
      InvalidArgumentError,
    )
    await expect(queryRows({ query: async () => null }, statement)).rejects.toThrow(/returned no rows/)
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      expect(await queryRows(client, statement)).toEqual([{ n: 1 }])
      const { rows } = await client.query('SELECT name FROM pg_prepared_statements')
      expect(rows).toEqual([{ name: 'helpers_one' }])
    } finally {
      await client.end()
    }
  })

  it('names a bad schema in its error, quoted when it is a string', () => {
    expect(() => new PostgresStore({ pool: db.pool, schema: 'Bad-Name' })).toThrow(
      /^Invalid schema name "Bad-Name": use 1-63/,
    )
    expect(() => new PostgresStore({ pool: db.pool, schema: 42 as never })).toThrow(
      /^Invalid schema name 42: /,
    )
    expect(() => new PostgresStore({ pool: db.pool, schema: {} as never })).toThrow(
      /^Invalid schema name \[object Object\]: /,
    )
  })

  it('states its capabilities, whether claims are durable, and whenListening() as a promise', async () => {
    const fast = new PostgresStore({ pool: db.pool })
    const durable = new PostgresStore({ pool: db.pool, durableClaims: true })
    try {
      expect(fast.capabilities).toEqual({
        multiProcess: true,
        transactionalEnqueue: true,
        transactionalExecution: true,
        storageHealth: true,
        announcesFreedJobs: true,
      })
      expect(fast.durableClaims).toBe(false)
      expect(durable.durableClaims).toBe(true)
      expect(fast.whenListening()).toBeInstanceOf(Promise)
    } finally {
      await fast.close()
      await durable.close()
    }
  })

  it('checks the schema again after a failed check, once another process has migrated it', async () => {
    const { schema, drop } = createTestSchema(databaseUrl())
    const late = new PostgresStore({ pool: db.pool, schema })
    const migrating = new PostgresStore({ pool: db.pool, schema })
    try {
      await expect(late.getJob({ id: '1' })).rejects.toBeInstanceOf(SchemaNotMigratedError)
      await migrating.migrate()
      expect(await late.getJob({ id: '1' })).toBeNull()
    } finally {
      await late.close()
      await migrating.close()
      await drop()
    }
  })
})
