import pg from 'pg'
import { afterEach, expect, it } from 'vitest'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, newJob, T0, useStore } from './fixture.js'

describePostgres('LISTEN/NOTIFY wake-ups', () => {
  const db = useStore()
  const woken: (readonly string[])[] = []
  const cancelled: (readonly string[])[] = []
  let unsubscribe: (() => void)[] = []

  const listen = async () => {
    unsubscribe = [
      db.store.onJobsAvailable((q) => woken.push(q)),
      db.store.onJobsCancelled((ids) => cancelled.push(ids)),
    ]
    await db.store.whenListening()
  }
  /** Sends a marker notification and waits for it, so everything sent before it has arrived. */
  const settle = async () => {
    const marker = `marker-${woken.length}-${Math.random()}`
    await db.pool.query('SELECT pg_notify($1, $2)', [`${db.schema}_jobs`, JSON.stringify([marker])])
    await waitFor(() => woken.some((q) => q.includes(marker)))
    const seen = woken.filter((q) => !q.some((name) => name.startsWith('marker-')))
    woken.length = 0
    return seen
  }

  afterEach(() => {
    for (const u of unsubscribe) u()
    woken.length = 0
    cancelled.length = 0
  })

  it('notifies once per insert statement with the queues of jobs available now', async () => {
    await listen()
    await db.store.insertJobs({
      jobs: [
        ...Array.from({ length: 50 }, () => newJob({ queue: 'a' })),
        newJob({ queue: 'b' }),
        newJob({ queue: 'later', runAt: T0 + 1 }),
      ],
      now: T0,
    })
    await db.store.insertJobs({ jobs: [newJob({ runAt: T0 + 1000 })], now: T0 })
    expect(await settle()).toEqual([['a', 'b']])
  })

  it('carries per queue the most urgent key of its jobs, after the names that earlier versions read', async () => {
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      const payloads: string[] = []
      client.on('notification', (m) => payloads.push(m.payload ?? ''))
      await client.query(`LISTEN "${db.schema}_jobs"`)
      await db.store.insertJobs({
        jobs: [
          newJob({ queue: 'b', priority: 3, runAt: T0 - 5 }),
          newJob({ queue: 'b', priority: 1, runAt: T0 }),
          newJob({ queue: 'a', priority: 0, runAt: T0 }),
          newJob({ queue: 'a', priority: -4, runAt: T0 + 1 }),
        ],
        now: T0,
      })
      await db.store.insertJobs({ jobs: [newJob({ queue: 'c', priority: 2 })], now: T0 })
      await waitFor(() => payloads.length === 2)
      expect(payloads.map((p) => JSON.parse(p))).toEqual([
        [
          'a',
          'b',
          [
            [0, T0],
            [1, T0 - 5],
          ],
        ],
        ['c', [[2, T0]]],
      ])
    } finally {
      await client.end()
    }
  })

  it('notifies when retries, releases, retryJobs or resume make jobs available', async () => {
    const [a, b, c] = (await insert(db.store, [{}, {}, {}])) as string[]
    await db.store.claimJobs(claim())
    await listen()
    await settle() // the insert's own notification, if it is still on its way
    // A retry due later wakes nobody: the claim loops' timers take it when it is due.
    await db.store.completeJobs({
      completions: [
        {
          id: b!,
          outcome: 'retry',
          runAt: T0 + 60_000,
          error: { attempt: 1, at: T0, name: 'E', message: 'x' },
        },
      ],
      now: T0,
    })
    expect(await settle()).toEqual([])
    await db.store.completeJobs({
      completions: [
        { id: a!, outcome: 'retry', runAt: T0, error: { attempt: 1, at: T0, name: 'E', message: 'x' } },
      ],
      now: T0,
    })
    expect(await settle()).toEqual([['default']])
    await db.store.completeJobs({ completions: [{ id: c!, outcome: 'released' }], now: T0 })
    expect(await settle()).toEqual([['default']])
    await db.store.retryJobs({ filter: { ids: [b!] }, now: T0 })
    expect(await settle()).toEqual([['default']])
    await db.store.setQueuePaused({ queue: 'default', paused: true, now: T0 })
    expect(await settle()).toEqual([])
    await db.store.setQueuePaused({ queue: 'default', paused: false, now: T0 })
    expect(await settle()).toEqual([['default']])
  })

  it('a rescue notifies for the jobs it returns to the queue, not for those it fails', async () => {
    const [exhausted] = (await insert(db.store, [{ maxAttempts: 1 }])) as string[]
    await db.store.claimJobs(claim({ workerId: 'dead:w1' }))
    const [retried] = (await insert(db.store, [{}])) as string[]
    await listen()
    await settle() // the insert's own notification, if it is still on its way
    const rescue = () => db.store.rescueJobs({ now: T0 + 60_000, staleAfterMs: 30_000, limit: 10 })
    expect((await rescue()).map((j) => [j.id, j.state])).toEqual([[exhausted, 'failed']])
    expect(await settle()).toEqual([])
    await db.store.claimJobs(claim({ workerId: 'dead:w2' }))
    expect((await rescue()).map((j) => [j.id, j.state])).toEqual([[retried, 'retryable']])
    expect(await settle()).toEqual([['default']])
  })

  it('resuming a job whose run time is still ahead notifies nothing; resuming a due one notifies its queue', async () => {
    const [later, due] = (await insert(db.store, [{ runAt: T0 + 60_000 }, { queue: 'other' }])) as string[]
    await db.store.pauseJobs({ filter: { ids: [later!, due!] } })
    await listen()
    await settle() // the insert's own notification, if it is still on its way
    await db.store.resumeJobs({ filter: { ids: [later!] }, now: T0 })
    expect(await settle()).toEqual([])
    await db.store.resumeJobs({ filter: { ids: [due!] }, now: T0 })
    expect(await settle()).toEqual([['other']])
  })

  it('notifies the ids of cancelled running jobs', async () => {
    const [running, waiting] = (await insert(db.store, [{}, { runAt: T0 + 5 }])) as string[]
    await db.store.claimJobs(claim())
    await listen()
    expect(await db.store.cancelJobs({ filter: { ids: [running!, waiting!] }, now: T0 })).toEqual([
      running,
      waiting,
    ])
    // Only running jobs need aborting elsewhere; the queue that cancelled aborts its own runs itself.
    await waitFor(() => cancelled.length > 0)
    expect(cancelled).toEqual([[running]])
  })

  it('passes on only the string ids of a cancel notification, and nothing for an empty or unreadable one', async () => {
    await listen()
    const channel = sqlNames(db.schema).cancelChannel
    for (const payload of ['', 'not json', '{"a":"1"}', '[]', '[1, null]', '["7", 8, "9"]'])
      await db.pool.query('SELECT pg_notify($1, $2)', [channel, payload])
    // Notifications of one session arrive in order: once the marker is in, every payload above was read.
    await db.pool.query('SELECT pg_notify($1, $2)', [channel, '["marker"]'])
    await waitFor(() => cancelled.some((ids) => ids.includes('marker')))
    expect(cancelled).toEqual([['7', '9'], ['marker']])
  })

  it('reconnects after its connection is killed, waking every worker once', async () => {
    await listen()
    const killed = await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
      [`LISTEN "${db.schema}_jobs"%`],
    )
    expect(killed.rowCount).toBe(1)
    await waitFor(() => woken.some((q) => q.length === 0), {
      timeoutMs: 15_000,
      message: 'the listener to reconnect',
    })
    woken.length = 0
    await db.store.insertJobs({ jobs: [newJob({ queue: 'after' })], now: T0 })
    expect(await settle()).toEqual([['after']])
  })
})
