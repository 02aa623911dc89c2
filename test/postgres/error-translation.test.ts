/**
 * `translateError` and `isUnavailable` (src/adapters/postgres/errors.ts) on the errors a real server
 * raises (each SQLSTATE produced by a statement), and on the socket errors Node raises, which a
 * statement cannot produce (built as Node builds them: an Error with a `code`).
 */
import { expect, it } from 'vitest'
import {
  errorCode,
  isUnavailable,
  jobIdSequenceBehind,
  translateError,
} from '../../src/adapters/postgres/errors.js'
import {
  InvalidArgumentError,
  InvalidPayloadError,
  SchemaNotMigratedError,
  StorageConflictError,
  StorageInconsistentError,
  StorageUnavailableError,
} from '../../src/core/domain/errors.js'
import { databaseUrl, describePostgres, usePool } from './fixture.js'

const socketError = (code: string, message = `connect ${code} 127.0.0.1:5432`) =>
  Object.assign(new Error(message), { code })

describePostgres('translating driver errors', () => {
  const db = usePool()
  /** The error a statement raises on the server. */
  const raised = (sql: string) =>
    db.pool.query(sql).then(
      () => {
        throw new Error(`${sql} did not fail`)
      },
      (error: unknown) => error,
    )

  it('maps each SQLSTATE class to its Conveyor error, keeping the detail and the cause', async () => {
    const cases: [string, string, new (...args: never[]) => Error][] = [
      ['SELECT * FROM conveyor_no_such_table', '42P01', SchemaNotMigratedError],
      ['SELECT no_such_column FROM pg_class', '42703', SchemaNotMigratedError],
      ['SELECT conveyor_no_such_function()', '42883', SchemaNotMigratedError],
      ["SELECT 'x'::int", '22P02', InvalidArgumentError],
      ['SELECT 2147483648::int', '22003', InvalidArgumentError],
      [`SELECT '"\\u0000"'::jsonb`, '22P05', InvalidPayloadError],
      ["SELECT repeat('x', 1073741824)", '54000', InvalidPayloadError],
      ['DO $$ BEGIN RAISE serialization_failure; END $$', '40001', StorageConflictError],
      ['DO $$ BEGIN RAISE deadlock_detected; END $$', '40P01', StorageConflictError],
      ['DO $$ BEGIN RAISE lock_not_available; END $$', '55P03', StorageConflictError],
      ['DO $$ BEGIN RAISE admin_shutdown; END $$', '57P01', StorageUnavailableError],
      ['DO $$ BEGIN RAISE connection_failure; END $$', '08006', StorageUnavailableError],
    ]
    for (const [sql, code, type] of cases) {
      const error = await raised(sql)
      expect(errorCode(error), sql).toBe(code)
      const translated = translateError(error, 'conveyor_x', 'doing a thing')
      expect(translated, sql).toBeInstanceOf(type)
      expect((translated as Error).cause, sql).toBe(error)
      expect((translated as Error).message, sql).toContain((error as Error).message)
    }
    const payload = translateError(await raised(`SELECT '"\\u0000"'::jsonb`), 'conveyor_x', 'saving')
    expect((payload as InvalidPayloadError).issues).toEqual([
      { message: 'unsupported Unicode escape sequence' },
    ])
    const missing = translateError(await raised('SELECT * FROM conveyor_no_such_table'), 'conveyor_x', 'x')
    expect((missing as Error).message).toMatch(/schema "conveyor_x".*queue\.migrate\(\)/)
    const conflict = translateError(
      await raised('DO $$ BEGIN RAISE deadlock_detected; END $$'),
      's',
      'saving',
    )
    expect((conflict as Error).message).toMatch(/while saving .*tried again/)
  })

  it('passes on errors it does not understand, and Conveyor errors, unchanged', async () => {
    const divide = await raised('SELECT 1/0')
    expect(translateError(divide, 'conveyor_x', 'x')).toBe(divide)
    // A primary key violation is the id sequence's fault only on this schema's jobs table.
    const duplicate = Object.assign(new Error('duplicate key'), {
      code: '23505',
      constraint: 'jobs_pkey',
      schema: 'other',
    })
    expect(translateError(duplicate, 'conveyor_x', 'x')).toBe(duplicate)
    expect(
      translateError({ ...duplicate, constraint: 'other_pkey', schema: 'conveyor_x' }, 'conveyor_x', 'x'),
    ).toEqual({
      ...duplicate,
      constraint: 'other_pkey',
      schema: 'conveyor_x',
    })
    const behind = translateError(duplicate, 'other', 'x') as Error
    expect(behind).toBeInstanceOf(StorageInconsistentError)
    expect(behind.cause).toBe(duplicate)
    expect(behind.message).toMatch(/schema "other" .*; nothing was enqueued\. Move the sequence/)
    expect(jobIdSequenceBehind('other', 'some').message).toMatch(
      /the colliding jobs were not enqueued \(other jobs of the same call may have been\)\. Move/,
    )
    const own = new InvalidArgumentError('mine')
    expect(translateError(own, 'conveyor_x', 'x')).toBe(own)
    // Already translated: not wrapped again, though its message names a broken connection.
    const translated = new StorageUnavailableError('PostgreSQL is unavailable: Connection terminated')
    expect(translateError(translated, 'conveyor_x', 'x')).toBe(translated)
    expect(translateError('a string', 'conveyor_x', 'x')).toBe('a string')
  })

  it('recognises an unreachable database by socket code, SQLSTATE class 08, message or inside an AggregateError', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P03', '08001', '08P01']) {
      expect(isUnavailable(socketError(code, 'x')), code).toBe(true)
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
      'Cannot use a pool after calling end on the pool',
      'Client was closed and is not queryable',
      'connect ECONNREFUSED 127.0.0.1:1',
    ]) {
      expect(isUnavailable(new Error(message)), message).toBe(true)
    }
    expect(isUnavailable(new AggregateError([new Error('x'), socketError('ECONNREFUSED')]))).toBe(true)
    expect(isUnavailable(new AggregateError([new Error('x'), new Error('y')]))).toBe(false)
    expect(isUnavailable(socketError('23505', 'duplicate key'))).toBe(false)
    expect(isUnavailable(new Error('something else'))).toBe(false)
    // Only an Error's message counts; a thrown string or a numeric code is not understood.
    expect(isUnavailable('Connection terminated')).toBe(false)
    expect(isUnavailable(Object.assign(new Error('x'), { code: 8006 }))).toBe(false)
    expect(errorCode(Object.assign(new Error('x'), { code: 8006 }))).toBeUndefined()
    expect(errorCode(null)).toBeUndefined()

    const reset = translateError(socketError('ECONNRESET', ''), 'conveyor_x', 'claiming jobs')
    expect(reset).toBeInstanceOf(StorageUnavailableError)
    expect((reset as Error).message).toMatch(/unavailable while claiming jobs: ECONNRESET\. Check/)
  })

  // Each cause says what to do about it; only an unreachable server asks whether it runs (a fresh-app
  // audit got "Check that the database is running" for a database that did not exist and for a
  // connection string the driver could not read).
  it('says what to do for a missing database, a refused user and a connection string without a user', async () => {
    const { createPostgresQueue } = await import('../../src/adapters/postgres/index.js')
    const url = new URL(databaseUrl())
    const attempt = async (connectionString: string) => {
      const queue = createPostgresQueue({ connectionString })
      try {
        return await queue.migrate().then(
          () => null,
          (error: unknown) => error as Error,
        )
      } finally {
        await queue.shutdown()
      }
    }
    url.pathname = '/conveyor_no_such_database'
    const missing = await attempt(url.href)
    expect(missing).toBeInstanceOf(StorageUnavailableError)
    expect(missing?.message).toMatch(/database "conveyor_no_such_database" does not exist/)
    expect(missing?.message).toMatch(/CREATE DATABASE conveyor_no_such_database/)
    expect(missing?.message).not.toMatch(/running and reachable/)

    url.pathname = '/postgres'
    url.username = 'conveyor_no_such_role'
    const refused = await attempt(url.href)
    expect(refused).toBeInstanceOf(StorageUnavailableError)
    expect(refused?.message).toMatch(/conveyor_no_such_role/)
    expect(refused?.message).toMatch(/user name and password/)
  })

  it('refuses a connection string that is not a URL or a socket path, without echoing it', async () => {
    const { createPostgresQueue } = await import('../../src/adapters/postgres/index.js')
    for (const connectionString of ['localhost:5432/db', 'user:secret@localhost/db']) {
      expect(() => createPostgresQueue({ connectionString })).toThrow(InvalidArgumentError)
      expect(() => createPostgresQueue({ connectionString })).toThrow(
        /postgres:\/\/user:password@host:5432\/database/,
      )
      expect(() => createPostgresQueue({ connectionString })).not.toThrow(/secret/)
    }
    // A socket path and a URL are taken as they are.
    expect(() => createPostgresQueue({ connectionString: '/var/run/postgresql mydb' })).not.toThrow()
    expect(() => createPostgresQueue({ connectionString: 'postgresql://u@h/db' })).not.toThrow()
  })
})
