/**
 * Conveyor's statements where the session's isolation level is not READ COMMITTED: a database or
 * role whose default is REPEATABLE READ, or a transactional job whose handler raised the level of
 * its own transaction. The group checks of claims and the releases of groups' next jobs read what
 * committed before they took the group's lock, which only READ COMMITTED gives them.
 */
import pg from 'pg'
import { afterEach, expect, it } from 'vitest'
import { afterCommitSql, runAfterCommit } from '../../src/adapters/postgres/after-commit.js'
import { createClaimPool } from '../../src/adapters/postgres/claim-pool.js'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { JobContext } from '../../src/core/ports/queue.js'
import { waitFor } from '../support/wait.js'
import {
  claim,
  databaseUrl,
  describePostgres,
  insert,
  newJob,
  type StoreFixture,
  T0,
  useStore,
} from './fixture.js'

/** Startup options that make every session of a pool default to REPEATABLE READ (as a database's default would). */
const REPEATABLE_READ = '-c default_transaction_isolation=repeatable\\ read'

const levelOf = async (target: pg.Pool | pg.PoolClient) =>
  (await target.query<{ level: string }>(`SELECT current_setting('transaction_isolation') AS level`)).rows[0]
    ?.level

describePostgres('isolation levels: claims', () => {
  const db = useStore()
  const pools: pg.Pool[] = []
  const stores: PostgresStore[] = []
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
    for (const pool of pools.splice(0)) await pool.end()
  })
  const repeatableReadPool = () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 4, options: REPEATABLE_READ })
    pools.push(pool)
    return pool
  }

  it("the claim pool's sessions run at READ COMMITTED when the main pool's default is REPEATABLE READ", async () => {
    const main = repeatableReadPool()
    expect(await levelOf(main)).toBe('repeatable read')
    const claims = createClaimPool(main, undefined)
    expect(claims).not.toBeNull()
    pools.push(claims!)
    expect(await levelOf(claims!)).toBe('read committed')
  })

  // Two stores claim a `release` group's two jobs (one per queue) at the same moment, round after
  // round. At REPEATABLE READ a claim's group check reads the snapshot its statement started with,
  // so a claim that took the group's lock just after the other one committed saw no job running and
  // started the second (review: 11 to 34 rounds of 300).
  for (const durableClaims of [false, true]) {
    it(`a release group never runs two jobs at once on pools defaulting to REPEATABLE READ (durableClaims: ${durableClaims})`, async () => {
      const [s1, s2] = [0, 1].map(() => {
        const store = new PostgresStore({ pool: repeatableReadPool(), schema: db.schema, durableClaims })
        stores.push(store)
        return store
      }) as [PostgresStore, PostgresStore]
      expect(await releaseGroupOverlaps(db, s1, s2)).toEqual([])
    }, 60_000)
  }
})

describePostgres('isolation levels: ending jobs on a pool that defaults to REPEATABLE READ', () => {
  const db = useStore()
  let pool: pg.Pool
  let store: PostgresStore
  afterEach(async () => {
    await store.close()
    await pool.end()
  })

  for (const groupMode of ['fifo', 'release'] as const) {
    it(`a completion releases the ${groupMode} group's next job at once (not at the rescue pass)`, async () => {
      pool = new pg.Pool({ connectionString: databaseUrl(), max: 2, options: REPEATABLE_READ })
      store = new PostgresStore({ pool, schema: db.schema })
      const [a, b] = await insert(db.store, [
        { groupKey: 'g', groupMode },
        { groupKey: 'g', groupMode },
      ])
      expect((await store.claimJobs(claim())).map((j) => j.id)).toEqual([a])
      // The claim met `b` while `a` ran: set aside.
      expect((await store.claimJobs(claim())).map((j) => j.id)).toEqual([])
      await store.completeJobs({ completions: [{ id: a!, outcome: 'succeeded' }], now: T0 })
      expect((await store.claimJobs(claim())).map((j) => j.id)).toEqual([b])
    })
  }

  it('fires a schedule tick without a serialization failure when another process fired it first', async () => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 2, options: REPEATABLE_READ })
    store = new PostgresStore({ pool, schema: db.schema })
    await db.store.upsertSchedule({ schedule: scheduleRow('every'), now: T0 })
    const fire = (s: PostgresStore) =>
      s.fireScheduleTick({
        name: 'every',
        expectedNextRunAt: T0 + 60_000,
        nextRunAt: T0 + 120_000,
        job: newJob({ scheduleName: 'every', scheduleTick: T0 + 60_000, runAt: T0 + 60_000 }),
        now: T0 + 60_000,
      })
    // This store's transaction takes its snapshot, then waits for the row the other firing locked.
    const blocker = await db.pool.connect()
    try {
      await blocker.query('BEGIN')
      await blocker.query(`SELECT 1 FROM ${db.table('schedules')} WHERE name = 'every' FOR UPDATE`)
      const late = fire(store)
      await waitFor(
        async () =>
          (
            await db.pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%' AND pid <> pg_backend_pid()`,
            )
          ).rowCount! > 0,
      )
      // The first firing commits meanwhile (as another process would).
      await blocker.query(
        `UPDATE ${db.table('schedules')} SET next_run_at = to_timestamp(${(T0 + 120_000) / 1000}) WHERE name = 'every'`,
      )
      await blocker.query('COMMIT')
      expect(await late).toBeNull()
    } finally {
      blocker.release()
    }
  })
})

describePostgres('isolation levels: maintenance on a pool that defaults to REPEATABLE READ', () => {
  const db = useStore()
  const partitions = async () =>
    (
      await db.pool.query<{ relname: string }>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 'job_history_2031%' ORDER BY 1`,
        [db.schema],
      )
    ).rows.map((r) => r.relname)
  /** A store on its own pool of `max` sessions defaulting to REPEATABLE READ, named so a hang can be ended. */
  const withStore = async (max: number, fn: (store: PostgresStore) => Promise<void>) => {
    const name = `iso_${db.schema}`.slice(0, 60)
    const pool = new pg.Pool({
      connectionString: databaseUrl(),
      max,
      options: REPEATABLE_READ,
      application_name: name,
    })
    // Its sessions are ended below whatever happened: the pool must hear their errors.
    pool.on('error', () => {})
    const store = new PostgresStore({ pool, schema: db.schema })
    try {
      await fn(store)
    } finally {
      await db.pool.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [name],
      )
      await store.close().catch(() => {})
      await pool.end().catch(() => {})
    }
  }

  // Wrapped whole in one READ COMMITTED transaction, the pass held `job_history` locked while its
  // partitions were created on another connection (each creation gave up after its lock timeout),
  // and hung for good on a pool of one connection (found in review).
  for (const max of [4, 1]) {
    it(`the rescue pass creates history partitions ahead (pool of ${max})`, async () => {
      for (const table of await partitions()) await db.pool.query(`DROP TABLE "${db.schema}"."${table}"`)
      await withStore(max, async (store) => {
        await store.rescueJobs({ now: Date.UTC(2031, 5, 1), staleAfterMs: 10_000, limit: 10 })
      })
      expect(await partitions()).toEqual([
        'job_history_20310601',
        'job_history_20310602',
        'job_history_20310603',
      ])
    }, 20_000)
  }

  it('retention runs on a pool of one connection', async () => {
    await withStore(1, async (store) => {
      expect(await store.pruneJobs({ finishedBefore: T0, limit: 10 })).toBe(0)
    })
  }, 20_000)
})

describePostgres('isolation levels: a connection string that sets the level', () => {
  const db = useStore()
  const url = () => {
    const u = new URL(databaseUrl())
    u.searchParams.set('options', REPEATABLE_READ)
    return u.toString()
  }

  it("keeps the claim pool's settings (pg lets the URL's options replace the options field)", async () => {
    const main = new pg.Pool({ connectionString: url(), max: 2 })
    const claims = createClaimPool(main, undefined)!
    try {
      expect(await levelOf(main)).toBe('repeatable read')
      const { rows } = await claims.query(
        `SELECT current_setting('transaction_isolation') AS level, current_setting('synchronous_commit') AS sync`,
      )
      expect(rows[0]).toEqual({ level: 'read committed', sync: 'off' })
    } finally {
      await claims.end()
      await main.end()
    }
  })

  it('a release group never runs two jobs at once', async () => {
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: url(), max: 4 }))
    const [s1, s2] = pools.map((pool) => new PostgresStore({ pool, schema: db.schema })) as [
      PostgresStore,
      PostgresStore,
    ]
    try {
      expect(await releaseGroupOverlaps(db, s1, s2)).toEqual([])
    } finally {
      await s1.close()
      await s2.close()
      for (const pool of pools) await pool.end()
    }
  }, 60_000)
})

describePostgres('isolation levels: a job transaction at REPEATABLE READ', () => {
  const db = useStore()

  it("releases the group's next job right after its commit, and its completion survives a concurrent change", async () => {
    const [h] = await insert(db.store, [{ groupKey: 'g' }])
    const [a] = await insert(db.store, [{ groupKey: 'g' }])
    expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([h])
    const behind = async () =>
      (
        await db.pool.query(`SELECT id::text AS job FROM ${db.table('jobs')} WHERE group_behind ORDER BY id`)
      ).rows.map((r) => r.job)
    expect(await behind()).toEqual([a])
    await db.store.runInTransaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await tx.query('SELECT 1')
      // Another session changes the job set aside after this transaction's snapshot: a release that
      // updated it from this snapshot would fail the completion with 40001.
      await db.pool.query(`UPDATE ${db.table('jobs')} SET metadata = '{"touched": true}' WHERE id = $1`, [a])
      expect(
        await db.store.completeInTransaction({ completion: { id: h!, outcome: 'succeeded' }, now: T0, tx }),
      ).toBe(true)
      // Not inside the transaction: its snapshot would miss what committed since.
      expect(await behind()).toEqual([a])
      return { commit: true, value: undefined }
    })
    expect(await behind()).toEqual([])
    expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([a])
  })

  it("moves the schedule's last success after the commit, without a serialization failure", async () => {
    await db.store.upsertSchedule({ schedule: scheduleRow('every'), now: T0 })
    await db.store.insertJobs({
      jobs: [newJob({ scheduleName: 'every', scheduleTick: T0, runAt: T0 })],
      now: T0,
    })
    const [job] = await db.store.claimJobs(claim())
    const written = await db.store.runInTransaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await tx.query('SELECT 1')
      // The scheduler fires the next tick meanwhile, updating the schedule's row.
      await db.store.fireScheduleTick({
        name: 'every',
        expectedNextRunAt: T0 + 60_000,
        nextRunAt: T0 + 120_000,
        job: newJob({ scheduleName: 'every', scheduleTick: T0 + 60_000, runAt: T0 + 60_000 }),
        now: T0 + 60_000,
      })
      const ok = await db.store.completeInTransaction({
        completion: { id: job!.id, outcome: 'succeeded', attempt: job!.attempt },
        now: T0 + 61_000,
        tx,
      })
      return { commit: ok, value: ok }
    })
    expect(written).toBe(true)
    const [schedule] = (await db.store.listSchedules()).filter((s) => s.name === 'every')
    expect(schedule?.lastSuccessAt).toBe(T0)
  })

  it('gives no connection back to the pool with a session default the handler changed', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 })
    const store = new PostgresStore({ pool, schema: db.schema })
    try {
      const [h] = await insert(db.store, [{}])
      await store.claimJobs(claim())
      await store.runInTransaction(async (tx) => {
        await tx.query('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ')
        const ok = await store.completeInTransaction({
          completion: { id: h!, outcome: 'succeeded' },
          now: T0,
          tx,
        })
        return { commit: ok, value: ok }
      })
      expect(await levelOf(pool)).toBe('read committed')
    } finally {
      await store.close()
      await pool.end()
    }
  })
})

describePostgres('isolation levels: after the commit', () => {
  const db = useStore()

  it('a RESET that fails after the commit discards the connection, and the job and its group go on', async () => {
    class FailingReset extends pg.Client {
      override query(...args: unknown[]): never {
        if (args[0] === 'RESET default_transaction_isolation')
          return Promise.reject(new Error('connection lost')) as never
        return (super.query as (...a: unknown[]) => never)(...args)
      }
    }
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 3, Client: FailingReset })
    const store = new PostgresStore({ pool, schema: db.schema })
    try {
      const [h] = await insert(db.store, [{ groupKey: 'g' }])
      const [a] = await insert(db.store, [{ groupKey: 'g' }])
      expect((await store.claimJobs(claim())).map((j) => j.id)).toEqual([h])
      const written = await store.runInTransaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
        await tx.query('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ')
        const ok = await store.completeInTransaction({
          completion: { id: h!, outcome: 'succeeded' },
          now: T0,
          tx,
        })
        return { commit: ok, value: ok }
      })
      expect(written).toBe(true)
      expect((await store.claimJobs(claim())).map((j) => j.id)).toEqual([a])
      expect(pool.totalCount).toBeLessThanOrEqual(2)
    } finally {
      await store.close()
      await pool.end()
    }
  })

  // The after-commit statement once took the groups' locks before the schedule's row, the other way
  // round from a completion: 3 deadlocks in 400 rounds of the two at once (found in review).
  it('runs beside completions of the same schedule and group without deadlocks', async () => {
    const names = sqlNames(db.schema)
    const sql = afterCommitSql(names)
    await db.store.upsertSchedule({ schedule: scheduleRow('every'), now: T0 })
    const errors: string[] = []
    for (let round = 0; round < 300; round++) {
      const group = `g${round}`
      const tick = T0 + 2 * round * 1000
      const [outcome] = await db.store.insertJobs({
        jobs: [newJob({ scheduleName: 'every', scheduleTick: tick, runAt: T0, groupKey: group })],
        now: T0,
      })
      const id = outcome!.job.id
      expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([id])
      const results = await Promise.allSettled([
        db.store.completeJobs({ completions: [{ id, outcome: 'succeeded' }], now: T0 }),
        runAfterCommit(db.pool, names, sql, { groups: [[group, '0']], ticks: [['every', tick + 1000]] }, T0),
      ])
      for (const r of results) if (r.status === 'rejected') errors.push(String((r.reason as Error).message))
    }
    expect(errors).toEqual([])
  }, 120_000)
})

describePostgres('isolation levels: queues whose handlers raise the level', () => {
  const db = useStore()
  const work = defineJob<{ name: string }>({ kind: 'raised-isolation', maxAttempts: 3 })
  let queue: PostgresQueue
  afterEach(async () => {
    await queue.shutdown({ graceMs: 1000 })
  })
  const register = (ran: string[]) =>
    queue.register(
      work,
      async ({ name }, ctx: JobContext) => {
        await ctx.tx!.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
        ran.push(name)
      },
      { transactional: true },
    )

  for (const groupMode of ['fifo', 'release'] as const) {
    it(`one drain runs every job of a ${groupMode} group`, async () => {
      queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
      const ran: string[] = []
      register(ran)
      await queue.enqueueMany(
        ['a', 'b', 'c'].map((name) => ({
          job: work,
          payload: { name },
          options: { groupKey: 'g', groupMode },
        })),
      )
      expect(await queue.drain()).toMatchObject({ succeeded: 3, total: 3 })
      expect(ran).toEqual(['a', 'b', 'c'])
    })
  }

  it('a worker without maintenance runs every job of a group', async () => {
    queue = createPostgresQueue({ pool: db.pool, schema: db.schema, maintenance: { enabled: false } })
    const ran: string[] = []
    register(ran)
    await queue.enqueueMany(
      ['a', 'b', 'c'].map((name) => ({ job: work, payload: { name }, options: { groupKey: 'g' } })),
    )
    await queue.start()
    await waitFor(() => ran.length === 3, { timeoutMs: 10_000 })
    expect(ran).toEqual(['a', 'b', 'c'])
  })
})

function scheduleRow(name: string) {
  // The job template is a new job's fields without those a tick sets.
  const { kind, payload, runAt: _runAt, scheduleName: _name, scheduleTick: _tick, ...jobTemplate } = newJob()
  return {
    name,
    expression: '* * * * *',
    timezone: 'UTC',
    kind,
    payload,
    jobTemplate,
    nextRunAt: T0 + 60_000,
    missedPolicy: 'runOnce' as const,
  }
}

/**
 * Two stores claim a `release` group's two jobs (one per queue) at the same moment, 200 rounds;
 * returns the groups that had both jobs running at once.
 */
async function releaseGroupOverlaps(
  db: StoreFixture,
  s1: PostgresStore,
  s2: PostgresStore,
): Promise<string[]> {
  const overlaps: string[] = []
  for (let round = 0; round < 200; round++) {
    const group = `g${round}`
    await insert(db.store, [
      { groupKey: group, groupMode: 'release' },
      { groupKey: group, groupMode: 'release', queue: 'other' },
    ])
    await Promise.all([
      s1.claimJobs(claim({ queues: ['default'], workerId: 'w1', capacity: 1 })),
      s2.claimJobs(claim({ queues: ['other'], workerId: 'w2', capacity: 1 })),
    ])
    const { rows } = await db.pool.query<{ group_key: string }>(
      `SELECT group_key FROM ${db.table('jobs')} WHERE state = 'running' GROUP BY group_key HAVING count(*) > 1`,
    )
    overlaps.push(...rows.map((r) => r.group_key))
    await db.pool.query(`DELETE FROM ${db.table('jobs')}`)
  }
  return overlaps
}
