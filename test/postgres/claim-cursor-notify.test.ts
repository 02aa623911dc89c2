/**
 * The keyset claim and notifications (claim-cursor.ts, jobs-notification.ts): a notification names,
 * per queue, the most urgent key among the jobs it made available, and a claim loop whose cursor has
 * passed that key starts its next claim there, instead of waiting for the full scan. Every store
 * here has a full scan an hour away, so a job the cursor passed is only taken through its notification.
 */
import pg from 'pg'
import { afterEach, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { ClaimParams } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, newJob, T0, useStore } from './fixture.js'

const HOUR = 3_600_000

describePostgres('keyset claim: notified keys ahead of the cursor', () => {
  const db = useStore()
  const opened: { close(): Promise<void> }[] = []
  afterEach(async () => {
    for (const s of opened.splice(0).reverse()) await s.close()
  })
  const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id)
  const loop = (fields: Partial<ClaimParams> = {}) => claim({ resume: true, ...fields })

  /** A store whose full scan is an hour away, listening, with a way to wait for what was sent. */
  async function listeningStore() {
    const store = new PostgresStore({
      pool: db.pool,
      schema: db.schema,
      claimCursor: { fullScanIntervalMs: HOUR },
    })
    opened.push(store)
    const woken: (readonly string[])[] = []
    opened.push({ close: async () => unsubscribe() })
    const unsubscribe = store.onJobsAvailable((queues) => woken.push(queues))
    await store.whenListening()
    /** Waits until every notification sent so far has been handled (a marker sent after them arrives). */
    const settle = async () => {
      const marker = `marker-${Math.random()}`
      await db.pool.query('SELECT pg_notify($1, $2)', [`${db.schema}_jobs`, JSON.stringify([marker])])
      await waitFor(() => woken.some((q) => q.includes(marker)), { message: 'the marker notification' })
      const seen = woken.filter((q) => !q.some((name) => name.startsWith('marker-')))
      woken.length = 0
      return seen
    }
    return { store, settle }
  }

  it("a more urgent job's notification makes the loop's next claim take it", async () => {
    const { store, settle } = await listeningStore()
    const [low1, low2] = await insert(store, [{ priority: 5 }, { priority: 5 }])
    expect(ids(await store.claimJobs(loop()))).toEqual([low1, low2])
    await settle()
    const [urgent] = await insert(store, [{ priority: 1 }])
    expect(await settle()).toEqual([['default']])
    expect(ids(await store.claimJobs(loop()))).toEqual([urgent])
    // The claim took the notified key's place: the next job of priority 5 comes next as before.
    const [low3] = await insert(store, [{ priority: 5, runAt: T0 + 1 }])
    await settle()
    expect(ids(await store.claimJobs(loop({ now: T0 + 1 })))).toEqual([low3])
  })

  it('a claim that fails keeps the notified key for the next claim', async () => {
    const { store, settle } = await listeningStore()
    await insert(store, [{ priority: 5 }, { priority: 5 }])
    expect(await store.claimJobs(loop())).toHaveLength(2)
    await settle()
    const [urgent] = await insert(store, [{ priority: 1 }])
    expect(await settle()).toEqual([['default']])
    // The next claim (the one that would start at the notified key) waits for a lock on jobs and
    // loses its connection there.
    const locker = new pg.Client({ connectionString: databaseUrl() })
    await locker.connect()
    opened.push({ close: () => locker.end() })
    await locker.query('BEGIN')
    await locker.query(`LOCK TABLE ${db.table('jobs')} IN ACCESS EXCLUSIVE MODE`)
    const failing = store.claimJobs(loop()).then(
      () => 'claimed',
      () => 'failed',
    )
    const blocked = await waitFor(
      async () => {
        const { rows } = await db.pool.query<{ pid: number }>(
          // The claim's text: pg_stat_activity keeps only its first kilobyte.
          `SELECT pid FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE 'WITH locked AS%' AND query LIKE $1`,
          [`%${db.schema}%`],
        )
        return rows[0]?.pid
      },
      { message: 'the claim to wait for the lock' },
    )
    await db.pool.query('SELECT pg_terminate_backend($1)', [blocked])
    expect(await failing).toBe('failed')
    await locker.query('COMMIT')
    // The full scan is an hour away and the cursor is past the urgent job: only the notified key,
    // given back by the failed claim, brings this claim to it.
    expect(ids(await store.claimJobs(loop()))).toEqual([urgent])
  })

  it('a notification moves the cursor of its own queues only', async () => {
    const { store, settle } = await listeningStore()
    const queues = ['a', 'b']
    await insert(store, [
      { queue: 'a', priority: 5 },
      { queue: 'b', priority: 5 },
    ])
    expect(await store.claimJobs(loop({ queues }))).toHaveLength(2)
    await settle()
    // Queue a gets a job as urgent, scheduled (no notification) and due by the next claims' time.
    const later = T0 + 60_000
    await insert(store, [{ queue: 'a', priority: 1, runAt: later }])
    const [urgentB] = await insert(store, [{ queue: 'b', priority: 1 }])
    expect(await settle()).toEqual([['b']])
    expect(ids(await store.claimJobs(loop({ queues, now: later })))).toEqual([urgentB])
    expect(ids(await store.claimJobs(loop({ queues, now: later })))).toEqual([])
  })

  it('releases, retries due now, retryJobs, resumeJobs, a resumed queue, updateJob and rescue notify their keys', async () => {
    const { store, settle } = await listeningStore()
    const error = { attempt: 1, at: T0, name: 'Error', message: 'x' }
    /** Each case makes job `id` available behind the cursor of loop `workerId`, which is at priority 5. */
    const cases: Record<string, (workerId: string) => Promise<string>> = {
      released: async (workerId) => {
        const [early] = await insert(store, [{ priority: 5, runAt: T0 - 10_000 }])
        await store.claimJobs(loop({ workerId }))
        await settle()
        await store.completeJobs({ completions: [{ id: early!, outcome: 'released' }], now: T0 })
        return early!
      },
      'retry due now': async (workerId) => {
        const [urgent] = await insert(store, [{ priority: 1 }])
        await store.claimJobs(claim({ workerId: 'elsewhere', capacity: 1 }))
        await store.claimJobs(loop({ workerId }))
        await settle()
        await store.completeJobs({
          completions: [{ id: urgent!, outcome: 'retry', runAt: T0, error }],
          now: T0,
        })
        return urgent!
      },
      retryJobs: async (workerId) => {
        const [urgent] = await insert(store, [{ priority: 1 }])
        await store.claimJobs(claim({ workerId: 'elsewhere', capacity: 1 }))
        await store.completeJobs({ completions: [{ id: urgent!, outcome: 'failed', error }], now: T0 })
        await store.claimJobs(loop({ workerId }))
        await settle()
        await store.retryJobs({ filter: { ids: [urgent!] }, now: T0 })
        return urgent!
      },
      resumeJobs: async (workerId) => {
        const [urgent] = await insert(store, [{ priority: 1 }])
        await store.pauseJobs({ filter: { ids: [urgent!] }, now: T0 })
        await store.claimJobs(loop({ workerId }))
        await settle()
        await store.resumeJobs({ filter: { ids: [urgent!] }, now: T0 })
        return urgent!
      },
      'resumed queue': async (workerId) => {
        await store.claimJobs(loop({ workerId }))
        await store.setQueuePaused({ queue: 'default', paused: true, now: T0 })
        const [urgent] = await insert(store, [{ priority: 1 }])
        await settle()
        // The notification of the insert came while the queue was paused: that claim took nothing.
        expect(await store.claimJobs(loop({ workerId }))).toEqual([])
        await store.setQueuePaused({ queue: 'default', paused: false, now: T0 })
        return urgent!
      },
      updateJob: async (workerId) => {
        const [urgent] = await insert(store, [{ priority: 1, runAt: T0 + HOUR }])
        await store.claimJobs(loop({ workerId }))
        await settle()
        await store.updateJob({ id: urgent!, changes: { runAt: T0 }, now: T0 })
        return urgent!
      },
      rescue: async (workerId) => {
        const [urgent] = await insert(store, [{ priority: 1 }])
        await store.claimJobs(claim({ workerId: 'dead-process:1', capacity: 1 }))
        await store.claimJobs(loop({ workerId }))
        await settle()
        expect(await store.rescueJobs({ now: T0, staleAfterMs: 1000, limit: 10 })).toHaveLength(1)
        return urgent!
      },
    }
    for (const [name, makeAvailable] of Object.entries(cases)) {
      const workerId = `alive:${name}`
      await store.recordHeartbeat({ processId: 'alive', now: T0 })
      // The loop's cursor passes a job of priority 5.
      await insert(store, [{ priority: 5 }])
      const id = await makeAvailable(workerId)
      expect(await settle(), name).toEqual([['default']])
      expect(ids(await store.claimJobs(loop({ workerId }))), name).toEqual([id])
      await db.pool.query(`TRUNCATE ${db.table('jobs')}, ${db.table('queues')}`)
      await settle()
    }
  })

  /** Another process on the same schema: its completions move no cursor of `store` by themselves. */
  function otherProcess(): PostgresStore {
    const other = new PostgresStore({ pool: db.pool, schema: db.schema })
    opened.push(other)
    return other
  }

  it("a dependency's success, written by another process, notifies its waiting dependants' keys", async () => {
    const { store, settle } = await listeningStore()
    const other = otherProcess()
    const error = { attempt: 1, at: T0, name: 'Error', message: 'x' }
    // Each round: a dependency taken, its dependant skipped (not yet claimable), then a later job
    // taken, so the loop's cursor is past the dependant when the dependency ends.
    const rounds: [string, (dependency: string, bystander: string) => Promise<void>][] = [
      [
        'the statement for successes',
        (dependency) =>
          other
            .completeJobs({ completions: [{ id: dependency, outcome: 'succeeded' }], now: T0 + 10 })
            .then(() => {}),
      ],
      [
        'the statement for any outcome',
        (dependency, bystander) =>
          other
            .completeJobs({
              completions: [
                { id: dependency, outcome: 'succeeded' },
                { id: bystander, outcome: 'retry', runAt: T0 + HOUR, error },
              ],
              now: T0 + 10,
            })
            .then(() => {}),
      ],
      [
        "the job's own transaction",
        (dependency) =>
          other
            .runInTransaction(async (tx) => {
              await other.completeInTransaction({
                completion: { id: dependency, outcome: 'succeeded' },
                now: T0 + 10,
                tx,
              })
              return { commit: true, value: null }
            })
            .then(() => {}),
      ],
    ]
    for (const [name, succeed] of rounds) {
      const workerId = `loop:${name}`
      const [dependency] = await insert(store, [{ priority: 5 }])
      const [dependant] = await insert(store, [{ priority: 5, dependsOn: [dependency!] }])
      const [bystander] = await insert(store, [{ priority: 5, runAt: T0 + 10 }])
      expect(ids(await store.claimJobs(loop({ workerId, capacity: 1 }))), name).toEqual([dependency])
      expect(ids(await store.claimJobs(loop({ workerId, now: T0 + 10 }))), name).toEqual([bystander])
      await settle()
      await succeed(dependency!, bystander!)
      expect(await settle(), name).toEqual([['default']])
      expect(ids(await store.claimJobs(loop({ workerId, now: T0 + 10 }))), name).toEqual([dependant])
      await db.pool.query(`TRUNCATE ${db.table('jobs')}`)
      await settle()
    }
  })

  it('a dependency that fails notifies nothing: its dependants are cancelled with it', async () => {
    const { store, settle } = await listeningStore()
    const [dependency] = await insert(store, [{ priority: 5 }])
    const [dependant] = await insert(store, [{ priority: 5, dependsOn: [dependency!] }])
    expect(ids(await store.claimJobs(loop({ capacity: 1 })))).toEqual([dependency])
    await settle()
    await otherProcess().completeJobs({
      completions: [
        { id: dependency!, outcome: 'failed', error: { attempt: 1, at: T0, name: 'Error', message: 'x' } },
      ],
      now: T0,
    })
    expect(await settle()).toEqual([])
    expect((await store.getJob({ id: dependant! }))?.state).toBe('cancelled')
  })

  it('a deleted dependency counts as met: deleting it notifies its dependants', async () => {
    const { store, settle } = await listeningStore()
    const [dependency] = await insert(store, [{ kind: 'other' }])
    const [dependant] = await insert(store, [{ priority: 5, dependsOn: [dependency!] }])
    const [later] = await insert(store, [{ priority: 5, runAt: T0 + 10 }])
    expect(ids(await store.claimJobs(loop({ now: T0 + 10 })))).toEqual([later])
    await settle()
    await otherProcess().deleteJobs({ filter: { ids: [dependency!] } })
    expect(await settle()).toEqual([['default']])
    expect(ids(await store.claimJobs(loop({ now: T0 + 10 })))).toEqual([dependant])
  })

  it("a failed workflow retried as a whole: the dependency's later success notifies its dependant", async () => {
    const { store, settle } = await listeningStore()
    const [dependency] = await insert(store, [{ priority: 5 }])
    const [dependant] = await insert(store, [{ priority: 5, dependsOn: [dependency!] }])
    expect(ids(await store.claimJobs(loop({ capacity: 1 })))).toEqual([dependency])
    await store.completeJobs({
      completions: [
        { id: dependency!, outcome: 'failed', error: { attempt: 1, at: T0, name: 'Error', message: 'x' } },
      ],
      now: T0,
    })
    expect((await store.getJob({ id: dependant! }))?.state).toBe('cancelled')
    expect(await store.retryJobs({ filter: { ids: [dependency!, dependant!] }, now: T0 })).toBe(2)
    const [later] = await insert(store, [{ priority: 5, runAt: T0 + 10 }])
    await settle()
    expect(ids(await store.claimJobs(loop({ capacity: 1, now: T0 + 10 })))).toEqual([dependency])
    expect(ids(await store.claimJobs(loop({ now: T0 + 10 })))).toEqual([later])
    await settle()
    await otherProcess().completeJobs({
      completions: [{ id: dependency!, outcome: 'succeeded' }],
      now: T0 + 10,
    })
    expect(await settle()).toEqual([['default']])
    expect(ids(await store.claimJobs(loop({ now: T0 + 10 })))).toEqual([dependant])
  })

  it("deleting or cancelling a group's waiting head (fifo), or a rescue failing its running job, notifies the next job", async () => {
    const { store, settle } = await listeningStore()
    await store.recordHeartbeat({ processId: 'alive', now: T0 })
    const cases: Record<string, (head: string) => Promise<unknown>> = {
      deleteJobs: (head) => otherProcess().deleteJobs({ filter: { ids: [head] } }),
      cancelJobs: (head) => otherProcess().cancelJobs({ filter: { ids: [head] }, now: T0 }),
      'rescue, out of attempts': async (head) => {
        const rescued = await otherProcess().rescueJobs({ now: T0, staleAfterMs: 1000, limit: 10 })
        expect(rescued.map((j) => [j.id, j.state])).toEqual([[head, 'failed']])
      },
    }
    for (const [name, end] of Object.entries(cases)) {
      const workerId = `alive:${name}`
      const running = name.startsWith('rescue')
      // The head: waiting (another kind, so the loop never takes it), or running on a dead process.
      const [head] = await insert(store, [
        { groupKey: 'g', kind: running ? 'test' : 'other', maxAttempts: 1, runAt: T0 - 10_000 },
      ])
      if (running)
        expect(ids(await store.claimJobs(claim({ workerId: 'dead-process:1', capacity: 1 })))).toEqual([head])
      const [next] = await insert(store, [{ groupKey: 'g', runAt: T0 - 10_000 }])
      const [later] = await insert(store, [{ runAt: T0 }])
      expect(ids(await store.claimJobs(loop({ workerId }))), name).toEqual([later])
      await settle()
      await end(head!)
      expect(await settle(), name).toEqual([['default']])
      expect(ids(await store.claimJobs(loop({ workerId }))), name).toEqual([next])
      await db.pool.query(`TRUNCATE ${db.table('jobs')}`)
      await settle()
    }
  })

  it("a group job finished by another process notifies the group's next job", async () => {
    const { store, settle } = await listeningStore()
    const other = otherProcess()
    const rounds = [
      ['fifo', 'succeeded'],
      ['release', 'succeeded'],
      ['fifo', 'cancelled'],
    ] as const
    for (const [groupMode, end] of rounds) {
      const workerId = `loop:${groupMode}:${end}`
      const name = `${groupMode}, ${end}`
      const [g1, g2] = await insert(store, [
        { groupKey: 'g', groupMode, runAt: T0 - 10_000 },
        { groupKey: 'g', groupMode, runAt: T0 - 10_000 },
      ])
      const [later] = await insert(store, [{ runAt: T0 }])
      // g2 waits for its group; the loop's cursor moves on to the later job.
      expect(ids(await store.claimJobs(loop({ workerId }))), name).toEqual([g1, later])
      await settle()
      if (end === 'succeeded') await other.completeJobs({ completions: [{ id: g1!, outcome: end }], now: T0 })
      else await other.cancelJobs({ filter: { ids: [g1!] }, now: T0 })
      expect(await settle(), name).toEqual([['default']])
      expect(ids(await store.claimJobs(loop({ workerId }))), name).toEqual([g2])
      await db.pool.query(`TRUNCATE ${db.table('jobs')}`)
      await settle()
    }
  })

  it('a transactional enqueue that commits after the lookback is taken at once (its notification is sent on commit)', async () => {
    const { store, settle } = await listeningStore()
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      await client.query('BEGIN')
      const [late] = await store.insertJobs({
        jobs: [newJob({ runAt: T0 - 5000 })],
        now: T0 - 5000,
        tx: client,
      })
      const [other] = await insert(store, [{ runAt: T0 }])
      expect(ids(await store.claimJobs(loop()))).toEqual([other])
      await settle()
      await client.query('COMMIT')
      expect(await settle()).toEqual([['default']])
      expect(ids(await store.claimJobs(loop()))).toEqual([late!.job.id])
    } finally {
      await client.end()
    }
  })

  it('after the listener reconnects (notifications lost meanwhile), the next claim is a full scan', async () => {
    const store = new PostgresStore({
      pool: db.pool,
      schema: db.schema,
      claimCursor: { fullScanIntervalMs: HOUR },
    })
    opened.push(store)
    const woken: (readonly string[])[] = []
    const unsubscribe = store.onJobsAvailable((queues) => woken.push(queues))
    opened.push({ close: async () => unsubscribe() })
    await store.whenListening()
    await insert(store, [{ priority: 5 }])
    expect(await store.claimJobs(loop())).toHaveLength(1)
    // A job the cursor passed whose notification is lost: written with no notification at all.
    const [missed] = await insert(store, [{ priority: 1, runAt: T0 + HOUR }])
    await db.pool.query(
      `UPDATE ${db.table('jobs')} SET state = 'available', run_at = to_timestamp($1::float8 / 1000) WHERE id = $2`,
      [T0, missed],
    )
    expect(await store.claimJobs(loop())).toEqual([])
    const killed = await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
      [`LISTEN "${db.schema}_jobs"%`],
    )
    expect(killed.rowCount).toBe(1)
    await waitFor(() => woken.some((q) => q.length === 0), {
      timeoutMs: 15_000,
      message: 'the listener to reconnect',
    })
    expect(ids(await store.claimJobs(loop()))).toEqual([missed])
  })

  it('a worker with a full scan a minute away takes a more urgent job at once', async () => {
    const queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      claimCursor: { fullScanIntervalMs: 60_000 },
      queues: { default: { concurrency: 1 } },
    })
    opened.push({ close: () => queue.shutdown() })
    const job = defineJob<{ n: number }>({ kind: 'cursor-notify' })
    const ran: number[] = []
    queue.register(job, async ({ n }) => {
      ran.push(n)
    })
    for (const n of [1, 2, 3]) await queue.enqueue(job, { n }, { priority: 5 })
    await queue.start()
    await waitFor(() => ran.length === 3, { message: 'the jobs of priority 5' })
    await queue.enqueue(job, { n: 4 }, { priority: 1 })
    // Well within the full-scan interval: only the notification can bring the claim back to it.
    await waitFor(() => ran.includes(4), { timeoutMs: 10_000, message: 'the urgent job' })
  })
})
