import pg from 'pg'
import { beforeEach, expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, T0, useStore } from './fixture.js'

/** The rescue time of these tests; processes silent since before `STALE` are dead. */
const NOW = T0 + 20_000
const STALE = T0 + 5_000

const died = (attempt: number, processId: string) => ({
  attempt,
  at: NOW,
  name: 'WorkerDied',
  message: `The worker process ${JSON.stringify(processId)} stopped sending heartbeats while running this job; it was returned to the queue.`,
})

describePostgres('PostgresStore heartbeats and rescue', () => {
  const db = useStore()
  const get = async (id: string) => (await db.store.getJob({ id }))!
  const processes = () => `${quoteIdentifier(db.schema)}.processes`

  beforeEach(async () => {
    await db.pool.query(`TRUNCATE ${processes()}`)
  })

  /** Inserts jobs and claims each for the given worker id, in order. */
  async function running(workerIds: string[], fields: Parameters<typeof insert>[1][number] = {}) {
    const ids = await insert(
      db.store,
      workerIds.map(() => fields),
    )
    for (const workerId of workerIds) await db.store.claimJobs(claim({ capacity: 1, workerId }))
    return ids
  }

  it('records heartbeats with one upsert per call, keeping the start time', async () => {
    await db.store.recordHeartbeat({ processId: 'p1', now: T0 })
    await db.store.recordHeartbeat({ processId: 'p1', now: T0 + 2000 })
    await db.store.recordHeartbeat({ processId: 'p2', now: T0 + 1000 })
    const rows = await db.pool.query(
      `SELECT id, round(date_part('epoch', last_heartbeat_at) * 1000) AS beat,
        round(date_part('epoch', started_at) * 1000) AS started FROM ${processes()} ORDER BY id`,
    )
    expect(rows.rows).toEqual([
      { id: 'p1', beat: T0 + 2000, started: T0 },
      { id: 'p2', beat: T0 + 1000, started: T0 + 1000 },
    ])
  })

  it('rescues the running jobs of silent and unknown processes, and leaves live ones alone', async () => {
    await db.store.recordHeartbeat({ processId: 'live', now: STALE })
    await db.store.recordHeartbeat({ processId: 'silent', now: STALE - 1 })
    const [live, silent, unknown, drain] = (await running([
      'live:default',
      'silent:default',
      'gone:mail+default',
      'silent:drain',
    ])) as [string, string, string, string]
    const [waiting] = (await insert(db.store, [{}])) as [string]

    const rescued = await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 100 })

    expect(rescued.map((j) => j.id)).toEqual([silent, unknown, drain])
    expect(rescued[0]).toEqual(await get(silent))
    expect(await get(silent)).toMatchObject({
      state: 'retryable',
      runAt: NOW,
      attempt: 1,
      finishedAt: null,
      attemptedBy: 'silent:default',
      errors: [died(1, 'silent')],
    })
    expect((await get(unknown)).errors).toEqual([died(1, 'gone')])
    expect(await get(live)).toMatchObject({ state: 'running', attempt: 1, errors: [] })
    expect((await get(waiting)).state).toBe('available')
    expect(await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 100 })).toEqual([])
  })

  it('counts the attempt: a rescued job runs again as the next attempt, and the dead worker cannot complete it', async () => {
    const [id] = (await running(['dead:w'])) as [string]
    await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 10 })
    const [again] = await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))
    expect(again).toMatchObject({ id, attempt: 2 })
    await db.store.completeJobs({ completions: [{ id, outcome: 'succeeded', attempt: 1 }], now: NOW + 1 })
    expect(await get(id)).toMatchObject({ state: 'running', attempt: 2 })
  })

  it('fails a job out of attempts and cancels its waiting dependants', async () => {
    const [last] = (await running(['dead:w'], { maxAttempts: 1 })) as [string]
    const [child] = (await insert(db.store, [{ dependsOn: [last] }])) as [string]
    const [deeper] = (await insert(db.store, [{ dependsOn: [child] }])) as [string]

    const [rescued] = await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 10 })

    expect(rescued).toMatchObject({ id: last, state: 'failed', finishedAt: NOW, errors: [died(1, 'dead')] })
    expect(await get(child)).toMatchObject({ state: 'cancelled', finishedAt: NOW })
    expect(await get(deeper)).toMatchObject({ state: 'cancelled', finishedAt: NOW })
  })

  it('never touches a job its worker completed before the rescue', async () => {
    const [done, retried] = (await running(['dead:w', 'dead:w'])) as [string, string]
    await db.store.completeJobs({
      completions: [
        { id: done, outcome: 'succeeded', attempt: 1 },
        { id: retried, outcome: 'retry', runAt: NOW + 5000, error: died(1, 'x'), attempt: 1 },
      ],
      now: NOW - 1,
    })
    expect(await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 10 })).toEqual([])
    expect(await get(done)).toMatchObject({ state: 'succeeded', finishedAt: NOW - 1, errors: [] })
    expect(await get(retried)).toMatchObject({ state: 'retryable', runAt: NOW + 5000 })
  })

  it('takes at most `limit` jobs, longest running first', async () => {
    const ids = await insert(db.store, [{}, {}, {}])
    for (const [i, at] of [T0 + 300, T0 + 100, T0 + 200].entries()) {
      await db.store.claimJobs(claim({ capacity: 1, now: at, workerId: `dead:w${i}` }))
    }
    const first = await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 2 })
    expect(first.map((j) => j.attemptedAt)).toEqual([T0 + 100, T0 + 200])
    const rest = await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 2 })
    expect(rest.map((j) => j.id)).toEqual([ids[0]])
  })

  it('wakes the workers of the queues whose jobs it made available', async () => {
    const woken: (readonly string[])[] = []
    const unsubscribe = db.store.onJobsAvailable((queues) => woken.push(queues))
    try {
      await db.store.whenListening()
      await insert(db.store, [{ queue: 'mail' }])
      await waitFor(() => woken.length === 1)
      await db.store.claimJobs(claim({ queues: ['mail'], workerId: 'dead:w' }))
      await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 10 })
      await waitFor(() => woken.length === 2)
      expect(woken).toEqual([['mail'], ['mail']])
    } finally {
      unsubscribe()
    }
  })

  it('forgets processes silent for a day, in the same call', async () => {
    const day = 24 * 3600_000
    await db.store.recordHeartbeat({ processId: 'ancient', now: NOW - day - 1 })
    await db.store.recordHeartbeat({ processId: 'yesterday', now: NOW - day + 1 })
    await db.store.recordHeartbeat({ processId: 'live', now: NOW })
    await db.store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 10 })
    const rows = await db.pool.query(`SELECT id FROM ${processes()} ORDER BY id`)
    expect(rows.rows.map((r) => r.id)).toEqual(['live', 'yesterday'])
  })

  it('rescues each job once when several processes rescue at the same time', async () => {
    const jobs = 300
    await insert(
      db.store,
      Array.from({ length: jobs }, () => ({})),
    )
    await db.store.claimJobs(claim({ capacity: jobs, workerId: 'dead:w' }))
    const pools = [1, 2].map(() => new pg.Pool({ connectionString: databaseUrl(), max: 2 }))
    const stores = pools.map((pool) => new PostgresStore({ pool, schema: db.schema }))
    try {
      const rescueAll = async (store: PostgresStore) => {
        const ids: string[] = []
        for (;;) {
          const batch = await store.rescueJobs({ now: NOW, staleBefore: STALE, limit: 7 })
          if (batch.length === 0) return ids
          ids.push(...batch.map((j) => j.id))
        }
      }
      const [a, b] = await Promise.all(stores.map(rescueAll))
      const all = [...a!, ...b!]
      expect(all).toHaveLength(jobs)
      expect(new Set(all).size).toBe(jobs)
      const counts = await db.pool.query(
        `SELECT jsonb_array_length(errors) AS errors, attempt, state, count(*)::int AS n
         FROM ${db.table('jobs')} GROUP BY 1, 2, 3`,
      )
      expect(counts.rows).toEqual([{ errors: 1, attempt: 1, state: 'retryable', n: jobs }])
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
  })
})
