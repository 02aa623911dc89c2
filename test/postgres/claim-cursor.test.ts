/**
 * The keyset claim (claim-cursor.ts): a claim loop's claims resume at the key of its last job, less
 * the lookback, and one claim per `fullScanIntervalMs` starts from the front. A store whose full scan
 * never comes (an hour) shows what the cursor skips; the default store takes those jobs all the same.
 * The store-level suite (test/store/cases/claim.ts) has the cases every store must pass.
 */
import pg from 'pg'
import { afterEach, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { ClaimParams } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, newJob, T0, useStore } from './fixture.js'

const HOUR = 3_600_000

describePostgres('keyset claim', () => {
  const db = useStore()
  const opened: PostgresStore[] = []
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close()
  })
  /** A store on the test schema with these cursor options. */
  const storeWith = (claimCursor: ConstructorParameters<typeof PostgresStore>[0]['claimCursor']) => {
    const store = new PostgresStore({ pool: db.pool, schema: db.schema, claimCursor })
    opened.push(store)
    return store
  }
  const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id)
  const loop = (fields: Partial<ClaimParams> = {}) => claim({ resume: true, ...fields })
  /** Claims of the loop until `id` comes. */
  const claimedLater = (store: PostgresStore, id: string, fields: Partial<ClaimParams> = {}) =>
    waitFor(async () => ids(await store.claimJobs(loop(fields))).includes(id), {
      message: `job ${id} behind the cursor was never claimed`,
    })

  it('resumes where the last claim ended: a higher priority behind the cursor waits for a full scan', async () => {
    const stuck = storeWith({ fullScanIntervalMs: HOUR, lookbackMs: 1000 })
    const [low] = await insert(stuck, [{ priority: 5 }])
    expect(ids(await stuck.claimJobs(loop()))).toEqual([low])
    const [urgent] = await insert(stuck, [{ priority: 0 }])
    const [next] = await insert(stuck, [{ priority: 5, runAt: T0 - 500 }])
    // From the cursor (5, T0 - 1 s): the later job of priority 5, not the urgent one.
    expect(ids(await stuck.claimJobs(loop()))).toEqual([next])
    expect(ids(await stuck.claimJobs(loop()))).toEqual([])
    // Claims outside a loop, and drains (maxId, dueBy), scan from the front.
    expect(ids(await stuck.claimJobs(claim()))).toEqual([urgent])

    const store = storeWith({ fullScanIntervalMs: 20 })
    const [low2] = await insert(store, [{ priority: 5 }])
    expect(ids(await store.claimJobs(loop()))).toEqual([low2])
    const [urgent2] = await insert(store, [{ priority: 0 }])
    await claimedLater(store, urgent2!)
  })

  it('by default a claim starts at its last job: one just behind it with no notification waits for the full scan', async () => {
    // The lookback's old default (1 s) took such a job at once, and made every claim walk the last
    // second's index entries: while a long transaction holds the horizon, none of them can be removed
    // or skipped (docs/storage.md). The jobs it was for, enqueues that commit late, are notified.
    for (const strategy of ['priority', 'time'] as const) {
      const stuck = storeWith({ fullScanIntervalMs: HOUR })
      const workerId = `w-${strategy}`
      const [first] = await insert(stuck, [{ runAt: T0 }])
      expect(ids(await stuck.claimJobs(loop({ workerId, strategy })))).toEqual([first])
      // Written behind the cursor with no notification (as a lost one would leave it).
      const [behind] = await insert(stuck, [{ runAt: T0 + HOUR }])
      await db.pool.query(
        `UPDATE ${db.table('jobs')} SET run_at = to_timestamp($1::float8 / 1000) WHERE id = $2`,
        [T0 - 2, behind],
      )
      const [same] = await insert(stuck, [{ runAt: T0 }])
      // The job of the cursor's own millisecond is taken; the one 2 ms behind is not.
      expect(ids(await stuck.claimJobs(loop({ workerId, strategy }))), strategy).toEqual([same])
      expect(ids(await stuck.claimJobs(loop({ workerId, strategy }))), strategy).toEqual([])
      expect(ids(await stuck.claimJobs(claim({ strategy }))), strategy).toEqual([behind])
      await db.pool.query(`DELETE FROM ${db.table('jobs')}`)
    }
  })

  it('a retry due behind the cursor is claimed by the full scan (both strategies)', async () => {
    for (const strategy of ['priority', 'time'] as const) {
      for (const interval of [HOUR, 20]) {
        const store = storeWith({ fullScanIntervalMs: interval })
        const workerId = `w-${strategy}-${interval}`
        const [first] = await insert(store, [{ runAt: T0 }])
        expect(ids(await store.claimJobs(loop({ workerId, strategy })))).toEqual([first])
        const [later] = await insert(store, [{ runAt: T0 + 10_000 }])
        expect(ids(await store.claimJobs(loop({ workerId, strategy, now: T0 + 10_000 })))).toEqual([later])
        await store.completeJobs({
          completions: [
            {
              id: first!,
              outcome: 'retry',
              runAt: T0 + 1,
              error: { attempt: 1, at: T0, name: 'Error', message: 'x' },
            },
          ],
          now: T0 + 10_000,
        })
        if (interval === HOUR) {
          expect(
            ids(await store.claimJobs(loop({ workerId, strategy, now: T0 + 10_000 }))),
            strategy,
          ).toEqual([])
        } else {
          await claimedLater(store, first!, { workerId, strategy, now: T0 + 10_000 })
        }
        await db.pool.query(`DELETE FROM ${db.table('jobs')}`)
      }
    }
  })

  it('a transactional enqueue that commits within the lookback is taken at once; a later one by the full scan', async () => {
    for (const [lag, interval] of [
      [500, HOUR],
      [5000, HOUR],
      [5000, 20],
    ] as const) {
      const store = storeWith({ fullScanIntervalMs: interval, lookbackMs: 1000 })
      const workerId = `w-${lag}-${interval}`
      const client = new pg.Client({ connectionString: databaseUrl() })
      await client.connect()
      try {
        await client.query('BEGIN')
        // The producer's transaction began `lag` ms before the job the worker claims meanwhile.
        const [late] = await store.insertJobs({
          jobs: [newJob({ runAt: T0 - lag })],
          now: T0 - lag,
          tx: client,
        })
        const [other] = await insert(store, [{ runAt: T0 }])
        expect(ids(await store.claimJobs(loop({ workerId })))).toEqual([other])
        await client.query('COMMIT')
        const id = late!.job.id
        if (lag < 1000) expect(ids(await store.claimJobs(loop({ workerId })))).toEqual([id])
        else if (interval === HOUR) expect(ids(await store.claimJobs(loop({ workerId })))).toEqual([])
        else await claimedLater(store, id, { workerId })
      } finally {
        await client.end()
      }
      await db.pool.query(`DELETE FROM ${db.table('jobs')}`)
    }
  })

  it("a finished group job moves its loop's cursor back, so the group's next job needs no full scan", async () => {
    const stuck = storeWith({ fullScanIntervalMs: HOUR })
    const [g1, g2, g3] = await insert(stuck, [
      { groupKey: 'g', runAt: T0 - 10_000 },
      { groupKey: 'g', runAt: T0 - 10_000 },
      { groupKey: 'g', runAt: T0 - 10_000 },
    ])
    const [other] = await insert(stuck, [{ runAt: T0 }])
    expect(ids(await stuck.claimJobs(loop()))).toEqual([g1, other])
    await stuck.completeJobs({ completions: [{ id: g1!, outcome: 'succeeded' }], now: T0 })
    expect(ids(await stuck.claimJobs(loop()))).toEqual([g2])
    // In the job's own transaction too, and whatever the outcome.
    await stuck.runInTransaction(async (tx) => {
      await stuck.completeInTransaction({
        completion: {
          id: g2!,
          outcome: 'failed',
          error: { attempt: 1, at: T0, name: 'Error', message: 'x' },
        },
        now: T0,
        tx,
      })
      return { commit: true, value: null }
    })
    expect(ids(await stuck.claimJobs(loop()))).toEqual([g3])
  })

  it("in release mode too: a group job's retry moves the cursor back to the group's next job", async () => {
    const stuck = storeWith({ fullScanIntervalMs: HOUR })
    const [r1, r2, r3] = await insert(stuck, [
      { groupKey: 'r', groupMode: 'release', runAt: T0 - 10_000 },
      { groupKey: 'r', groupMode: 'release', runAt: T0 - 10_000 },
      { groupKey: 'r', groupMode: 'release', runAt: T0 - 10_000 },
    ])
    const [other] = await insert(stuck, [{ runAt: T0 }])
    expect(ids(await stuck.claimJobs(loop()))).toEqual([r1, other])
    // The retry waits out its backoff without holding the group: the next job runs at once.
    await stuck.completeJobs({
      completions: [
        {
          id: r1!,
          outcome: 'retry',
          runAt: T0 + HOUR,
          error: { attempt: 1, at: T0, name: 'Error', message: 'x' },
        },
      ],
      now: T0,
    })
    expect(ids(await stuck.claimJobs(loop()))).toEqual([r2])
    await stuck.completeJobs({ completions: [{ id: r2!, outcome: 'succeeded' }], now: T0 })
    expect(ids(await stuck.claimJobs(loop()))).toEqual([r3])
  })

  it('keeps one cursor per queue', async () => {
    const stuck = storeWith({ fullScanIntervalMs: HOUR })
    const queues = ['a', 'b']
    const [a1, b1] = await insert(stuck, [
      { queue: 'a', priority: 5 },
      { queue: 'b', priority: 0 },
    ])
    expect(ids(await stuck.claimJobs(loop({ queues })))).toEqual([b1, a1])
    const [a2, b2] = await insert(stuck, [
      { queue: 'a', priority: 0 },
      { queue: 'b', priority: 0 },
    ])
    // Queue a's cursor is at priority 5, queue b's at 0.
    expect(ids(await stuck.claimJobs(loop({ queues })))).toEqual([b2])
    expect(ids(await stuck.claimJobs(claim({ queues })))).toEqual([a2])
  })

  it('with fullScanIntervalMs 0 every claim scans from the front', async () => {
    const store = storeWith({ fullScanIntervalMs: 0 })
    const [low] = await insert(store, [{ priority: 5 }])
    expect(ids(await store.claimJobs(loop()))).toEqual([low])
    const [urgent] = await insert(store, [{ priority: 0 }])
    expect(ids(await store.claimJobs(loop()))).toEqual([urgent])
  })

  it('validates claimCursor with typed errors, on the store and the queue', async () => {
    expect(storeWith(undefined).claimCursor).toEqual({ fullScanIntervalMs: 1000, lookbackMs: 0 })
    expect(storeWith({ lookbackMs: 1000 }).claimCursor).toEqual({
      fullScanIntervalMs: 1000,
      lookbackMs: 1000,
    })
    expect(storeWith({ lookbackMs: 0 }).claimCursor).toEqual({ fullScanIntervalMs: 1000, lookbackMs: 0 })
    const bad = [
      [{ fullScanIntervalMs: -1 }, /claimCursor.fullScanIntervalMs must be an integer from 0 to 3600000/],
      [{ lookbackMs: 1.5 }, /claimCursor.lookbackMs must be an integer/],
      [{ lookback: 5 }, /claimCursor.*lookback/],
      ['fast', /claimCursor must be an object/],
    ] as const
    for (const [claimCursor, message] of bad) {
      expect(() => storeWith(claimCursor as never)).toThrow(InvalidArgumentError)
      expect(() => storeWith(claimCursor as never)).toThrow(message)
      expect(() =>
        createPostgresQueue({ pool: db.pool, schema: db.schema, claimCursor: claimCursor as never }),
      ).toThrow(message)
    }
    const queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      claimCursor: { fullScanIntervalMs: 250 },
    })
    expect(queue.store.claimCursor).toEqual({ fullScanIntervalMs: 250, lookbackMs: 0 })
    await queue.shutdown()
  })
})
