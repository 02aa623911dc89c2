/**
 * The `time` strategy's claim index on demand (migration 011 no longer creates it for every schema):
 * built by `ready()` for `time` workers (so by `start()`) and by a store's first `time` claim (so by
 * `drain()`), not for `priority` workers; built once when two processes ensure it at the same time
 * (the second waits for the first's concurrent build); an invalid leftover of a failed concurrent
 * build replaced; a role that does not own the table told the exact statement for the owner.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { ensureTimeIndex, timeIndexSql } from '../../src/adapters/postgres/time-index.js'
import {
  IndexBuildPendingError,
  InvalidArgumentError,
  SchemaPrivilegeError,
} from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, describeStore, newJob, T0, useStore } from './fixture.js'

const EXPECTED_DEFINITION = (schema: string) =>
  `CREATE INDEX jobs_claim_time_idx ON ${schema}.jobs USING btree (queue, run_at, id) WHERE ((state = ANY (ARRAY['scheduled'::text, 'available'::text, 'retryable'::text])) AND (NOT group_behind))`

const noop = defineJob<Record<string, never>>({ kind: 'noop' })

describeStore('the time index on demand', () => {
  const db = useStore()
  const stores: PostgresStore[] = []
  const newStore = () => {
    const store = new PostgresStore({ pool: db.pool, schema: db.schema })
    stores.push(store)
    return store
  }
  /** The index's definition and validity, or null when the schema has none. */
  const timeIndex = async () =>
    (
      await db.pool.query<{ definition: string; valid: boolean }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid FROM pg_index i
         WHERE i.indexrelid = to_regclass($1::text)`,
        [`${db.table('jobs')}_claim_time_idx`],
      )
    ).rows[0] ?? null
  const claim = (store: PostgresStore, strategy: 'priority' | 'time') =>
    store.claimJobs({ queues: ['default'], kinds: ['noop'], capacity: 1, strategy, now: T0, workerId: 'w' })

  beforeEach(async () => {
    await db.pool.query(`DROP INDEX IF EXISTS ${db.table('jobs')}_claim_time_idx`)
  })
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()))
  })

  it('is absent after migrate, and ready() for priority workers or a priority claim does not build it', async () => {
    const store = newStore()
    expect(await timeIndex()).toBeNull()
    await store.ready()
    await store.ready({ strategies: ['priority'] })
    await claim(store, 'priority')
    expect(await timeIndex()).toBeNull()
  })

  it('refuses strategies that are not a list of poll strategies, saying what it got', async () => {
    const store = newStore()
    await expect(store.ready({ strategies: ['fast'] as never })).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(store.ready({ strategies: 'time' as never })).rejects.toThrow(
      `ready: strategies must be an array of 'priority' and 'time'; got "time".`,
    )
    expect(await timeIndex()).toBeNull()
  })

  it('is built by ready() for time workers, with the definition of migration 013', async () => {
    await newStore().ready({ strategies: ['priority', 'time'] })
    expect(await timeIndex()).toEqual({ definition: EXPECTED_DEFINITION(db.schema), valid: true })
    // Already there: another store's ready() leaves it as it is.
    await newStore().ready({ strategies: ['time'] })
    expect((await timeIndex())?.valid).toBe(true)
  })

  it("is built by a store's first time claim, which then takes the due job", async () => {
    const store = newStore()
    await db.pool.query(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts)
       VALUES ('noop', 'default', 'available', '{}', to_timestamp(${T0 / 1000}), to_timestamp(${T0 / 1000}), 1)`,
    )
    expect(await claim(store, 'time')).toHaveLength(1)
    expect(await timeIndex()).toEqual({ definition: EXPECTED_DEFINITION(db.schema), valid: true })
  })

  it('is built by start() of a queue whose workers use time, and not by one whose workers use priority', async () => {
    for (const strategy of ['priority', 'time'] as const) {
      const queue = createPostgresQueue({ pool: db.pool, schema: db.schema, strategy })
      queue.register(noop, async () => {})
      await queue.start()
      await queue.shutdown()
      expect((await timeIndex()) !== null, strategy).toBe(strategy === 'time')
    }
  })

  it('replaces an invalid leftover of a failed concurrent build', async () => {
    // A concurrent build that fails (here: a unique index over duplicates) leaves an invalid index.
    await db.pool.query(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts)
       SELECT 'noop', 'default', 'available', '{}', now(), now(), 1 FROM generate_series(1, 2)`,
    )
    await expect(
      db.pool.query(`CREATE UNIQUE INDEX CONCURRENTLY jobs_claim_time_idx ON ${db.table('jobs')} (queue)`),
    ).rejects.toThrow()
    expect((await timeIndex())?.valid).toBe(false)
    await newStore().ready({ strategies: ['time'] })
    expect(await timeIndex()).toEqual({ definition: EXPECTED_DEFINITION(db.schema), valid: true })
  })

  it('replaces one with the predicate before migration 013, which keeps jobs set aside behind their groups', async () => {
    // As a process of version 012 would build it during an upgrade.
    await db.pool.query(
      `CREATE INDEX jobs_claim_time_idx ON ${db.table('jobs')} (queue, run_at, id) WHERE state IN ('scheduled', 'available', 'retryable')`,
    )
    expect(await timeIndex()).toMatchObject({ valid: true })
    expect((await timeIndex())?.definition).not.toContain('group_behind')
    await newStore().ready({ strategies: ['time'] })
    expect(await timeIndex()).toEqual({ definition: EXPECTED_DEFINITION(db.schema), valid: true })
  })
})

describePostgres('the time index on demand, across sessions', () => {
  const db = useStore()
  const indexName = () => `"${db.schema}".jobs_claim_time_idx`

  beforeEach(async () => {
    await db.pool.query(`DROP INDEX IF EXISTS ${indexName()}`)
  })

  it('is built once when two processes ensure it at the same time (the second waits for the concurrent build)', async () => {
    const names = sqlNames(db.schema)
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: databaseUrl(), max: 2 }))
    // A transaction that wrote to jobs holds a lock the plain build waits for: past its lock timeout
    // the first process builds CONCURRENTLY, which waits for that transaction to end.
    const writer = new pg.Client({ connectionString: databaseUrl() })
    await writer.connect()
    try {
      await writer.query('BEGIN')
      await writer.query(
        `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
         VALUES ('noop', 'default', 'available', '{}', now(), now(), 1)`,
      )
      const first = ensureTimeIndex(pools[0]!, names)
      await waitFor(
        async () =>
          (
            await db.pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY jobs_claim_time_idx ON "${db.schema}"%' AND wait_event_type = 'Lock'`,
            )
          ).rowCount === 1,
        { timeoutMs: 30_000, message: 'the first build to wait, concurrently, for the open transaction' },
      )
      const second = ensureTimeIndex(pools[1]!, names)
      await writer.query('COMMIT')
      expect(await Promise.all([first, second])).toEqual([true, false])
    } finally {
      await writer.end()
      await Promise.all(pools.map((p) => p.end()))
    }
    const { rows } = await db.pool.query<{ valid: boolean }>(
      'SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1::text)',
      [indexName()],
    )
    expect(rows).toEqual([{ valid: true }])
  })

  it('a build held up by an open transaction does not hold up start: past timeIndexWaitMs it goes on in the background, reported, and time claims run meanwhile', async () => {
    const errors: unknown[] = []
    const store = new PostgresStore({
      pool: db.pool,
      schema: db.schema,
      timeIndexWaitMs: 300,
      onError: (error) => errors.push(error),
    })
    const timeIndex = async () =>
      (
        await db.pool.query<{ valid: boolean }>(
          'SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass($1::text)',
          [indexName()],
        )
      ).rows[0] ?? null
    await store.insertJobs({ jobs: [newJob({ kind: 'noop', runAt: T0 })], now: T0 })
    // A transaction that wrote to jobs: the plain build's lock waits for it, then the concurrent build.
    const writer = new pg.Client({ connectionString: databaseUrl() })
    await writer.connect()
    try {
      await writer.query('BEGIN')
      await writer.query(`UPDATE ${db.table('jobs')} SET priority = priority`)
      await store.ready({ strategies: ['time'] })
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(IndexBuildPendingError)
      expect(String((errors[0] as Error).message)).toMatch(/still being built after 300 ms.*pg_stat_activity/)
      expect(await timeIndex()).toMatchObject({ valid: false })
      // A claim by time does not wait for the build: it runs without the index (after the writer).
      const claimed = store.claimJobs({
        queues: ['default'],
        kinds: ['noop'],
        capacity: 1,
        strategy: 'time',
        now: T0,
        workerId: 'w',
      })
      await writer.query('COMMIT')
      expect((await claimed).map((j) => j.kind)).toEqual(['noop'])
    } finally {
      await writer.end()
    }
    try {
      await waitFor(async () => (await timeIndex())?.valid === true, {
        message: 'the background build to end',
      })
      expect(errors).toHaveLength(1)
    } finally {
      await store.close()
    }
  })

  it('refuses a timeIndexWaitMs that is not a whole number of ms', () => {
    for (const bad of [-1, 1.5, 'soon'])
      expect(
        () => new PostgresStore({ pool: db.pool, schema: db.schema, timeIndexWaitMs: bad as never }),
      ).toThrow(/timeIndexWaitMs must be an integer/)
  })

  it('tells a role that does not own jobs the statement to have the owner run, and works once it ran', async () => {
    const role = `conveyor_test_app_${randomBytes(4).toString('hex')}`
    const schema = `"${db.schema}"`
    await db.pool.query(`CREATE ROLE ${role} LOGIN`)
    // The URL's user wins over a \`user\` option: the role goes into the URL.
    const url = new URL(databaseUrl())
    url.username = role
    url.password = ''
    const app = new pg.Pool({ connectionString: url.toString(), max: 2 })
    try {
      await db.pool.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`)
      await db.pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`)
      await db.pool.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`)
      await db.pool.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${role}`)
      const store = new PostgresStore({ pool: app, schema: db.schema })
      try {
        // Priority workers need nothing the role cannot do.
        await store.ready({ strategies: ['priority'] })
        const statement = `${timeIndexSql(sqlNames(db.schema), true)};`
        const refused = store.ready({ strategies: ['time'] })
        await expect(refused).rejects.toBeInstanceOf(SchemaPrivilegeError)
        await expect(refused).rejects.toThrow(statement)
        await expect(refused).rejects.toThrow(/must be owner of table jobs/)
        // A time claim is refused the same way and never runs without the index.
        await expect(
          store.claimJobs({
            queues: ['default'],
            kinds: ['noop'],
            capacity: 1,
            strategy: 'time',
            workerId: 'w',
          }),
        ).rejects.toBeInstanceOf(SchemaPrivilegeError)
        // The owner runs the statement of the message as given; then the role's store is ready.
        await db.pool.query(statement)
        await store.ready({ strategies: ['time'] })
        expect(
          await store.claimJobs({
            queues: ['default'],
            kinds: ['noop'],
            capacity: 1,
            strategy: 'time',
            workerId: 'w',
          }),
        ).toEqual([])
      } finally {
        await store.close()
      }
    } finally {
      await app.end()
      await db.pool.query(`DROP OWNED BY ${role}`)
      await db.pool.query(`DROP ROLE ${role}`)
    }
  })
})
