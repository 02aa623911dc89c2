import { afterEach, expect, it } from 'vitest'
import { waitFor } from '../support/wait.js'
import { claim, describePostgres, insert, T0, useStore } from './fixture.js'

describePostgres('PostgresStore.updateJob', () => {
  const db = useStore()
  const woken: (readonly string[])[] = []
  let unsubscribe: (() => void) | undefined

  const listen = async () => {
    unsubscribe = db.store.onJobsAvailable((q) => woken.push(q))
    await db.store.whenListening()
  }
  /** Sends a marker notification and waits for it, so everything sent before it has arrived. */
  const notified = async () => {
    const marker = `marker-${Math.random()}`
    await db.pool.query('SELECT pg_notify($1, $2)', [`${db.schema}_jobs`, JSON.stringify([marker])])
    await waitFor(() => woken.some((q) => q.includes(marker)))
    const seen = woken.filter((q) => !q.some((name) => name.startsWith('marker-')))
    woken.length = 0
    return seen
  }

  afterEach(() => {
    unsubscribe?.()
    woken.length = 0
  })

  it('notifies the queue of a job that is due after the change, and only then', async () => {
    const [a, b] = await insert(db.store, [
      { queue: 'q1', runAt: T0 + 60_000 },
      { queue: 'q2', runAt: T0 + 60_000 },
    ])
    await listen()
    await db.store.updateJob({ id: a!, changes: { runAt: T0 + 30_000 }, now: T0 })
    await db.store.updateJob({ id: b!, changes: { priority: 3 }, now: T0 })
    expect(await notified()).toEqual([])
    const moved = await db.store.updateJob({ id: a!, changes: { runAt: T0 }, now: T0 })
    expect(moved).toMatchObject({ status: 'updated', job: { state: 'available', runAt: T0 } })
    expect(await notified()).toEqual([['q1']])
  })

  it('reports a missing job and a job that is not waiting without writing', async () => {
    const [a] = await insert(db.store, [{}])
    expect(await db.store.updateJob({ id: '424242', changes: { priority: 1 }, now: T0 })).toEqual({
      status: 'notFound',
    })
    await db.store.claimJobs(claim())
    expect(await db.store.updateJob({ id: a!, changes: { priority: 1, runAt: T0 }, now: T0 })).toEqual({
      status: 'notWaiting',
      state: 'running',
    })
    expect(await db.store.getJob({ id: a! })).toMatchObject({ state: 'running', priority: 0 })
  })

  it('a claim committed while the update waits for the row wins: the update writes nothing', async () => {
    const [a] = await insert(db.store, [{ runAt: T0 + 60_000 }])
    const claimer = await db.pool.connect()
    try {
      // A claim in progress: the row is locked and already running in that transaction.
      await claimer.query('BEGIN')
      await claimer.query(`UPDATE ${db.table('jobs')} SET state = 'running', attempt = 1 WHERE id = $1`, [a])
      const update = db.store.updateJob({ id: a!, changes: { runAt: T0, priority: 5 }, now: T0 })
      await waitFor(async () => {
        const { rows } = await db.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
           WHERE NOT l.granted AND s.query LIKE '%' || $1 || '.jobs%'`,
          [db.table('jobs').split('.')[0]],
        )
        return rows[0]!.waiting > 0
      })
      await claimer.query('COMMIT')
      expect(await update).toEqual({ status: 'notWaiting', state: 'running' })
    } finally {
      claimer.release()
    }
    expect(await db.store.getJob({ id: a! })).toMatchObject({
      state: 'running',
      attempt: 1,
      priority: 0,
      runAt: T0 + 60_000,
    })
  })

  it('an update committed first is what the claim sees', async () => {
    const [a, b] = await insert(db.store, [{ priority: 0 }, { priority: 1 }])
    await db.store.updateJob({ id: b!, changes: { priority: -1 }, now: T0 })
    const [first] = await db.store.claimJobs(claim({ capacity: 1 }))
    expect(first?.id).toBe(b)
    await db.store.updateJob({ id: a!, changes: { runAt: T0 + 1000 }, now: T0 })
    expect(await db.store.claimJobs(claim())).toEqual([])
  })
})
