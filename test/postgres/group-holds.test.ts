/**
 * Group holds (migration 013): a `fifo` job that waits behind an earlier job of its group is set
 * aside (`group_behind`), out of the claim index, by the first claim that meets it; the statements
 * that end or move a group's job release the group's first job set aside once nothing holds it back;
 * the rescue pass releases any that nothing holds back (a mark an older process left, a lock timeout
 * that ran out). A claim's cost then no longer grows with a group's backlog (claim.ts).
 */

import pg from 'pg'
import { expect, it } from 'vitest'
import { claimJobs, claimSql } from '../../src/adapters/postgres/claim.js'
import { inReadCommitted } from '../../src/adapters/postgres/queryable.js'
import { rescueJobs, rescueSql } from '../../src/adapters/postgres/rescue.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import type { NewJob } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, describeStore, insert, T0, useStore } from './fixture.js'

const error = { attempt: 1, at: T0, name: 'Error', message: 'x' }

describeStore('group holds: a fifo group adds only its next job to the claim index', () => {
  const db = useStore()
  /** The ids of the jobs set aside, in id order. */
  const behind = async () =>
    (
      await db.pool.query<{ job: string }>(
        `SELECT id::text AS job FROM ${db.table('jobs')} WHERE group_behind ORDER BY id`,
      )
    ).rows.map((r) => r.job)
  const take = (fields: Parameters<typeof claim>[0] = {}) => db.store.claimJobs(claim(fields))
  const ids = (jobs: readonly { id: string }[]) => jobs.map((j) => j.id)
  /**
   * The head of group `g` (with `head`'s fields), then two more jobs of the group, each enqueued on
   * its own (so that a claim, not their batch's insert, sets the later ones aside).
   */
  async function group(head: Partial<NewJob> = {}): Promise<[string, string, string]> {
    const [h] = await insert(db.store, [{ groupKey: 'g', ...head }])
    const [a] = await insert(db.store, [{ groupKey: 'g' }])
    const [b] = await insert(db.store, [{ groupKey: 'g' }])
    return [h!, a!, b!]
  }

  for (const enqueue of ['one by one', 'in one batch']) {
    it(`a held group's waiting jobs (enqueued ${enqueue}) are set aside once; later claims no longer read them`, async () => {
      const [head] = await insert(db.store, [{ groupKey: 'g' }])
      const backlog =
        enqueue === 'in one batch'
          ? await insert(
              db.store,
              Array.from({ length: 2000 }, () => ({ groupKey: 'g' })),
            )
          : (
              await Promise.all(Array.from({ length: 300 }, () => insert(db.store, [{ groupKey: 'g' }])))
            ).flat()
      const free = await insert(db.store, [{}, {}, {}])
      expect(ids(await take())).toEqual([head, ...free])
      expect(await behind()).toEqual(backlog.toSorted((x, y) => Number(x) - Number(y)))

      // Setting a job aside is an update: its old version's entry stays in the claim index until
      // VACUUM removes it (autovacuum, in production; again while another session's snapshot holds
      // the versions back). Then the next claim, in a transaction of its own: it scans the claim
      // index, and reads only a few of its entries.
      const names = sqlNames(db.schema)
      const index = `${names.quotedSchema}.jobs_claim_priority_idx`
      const reads = async () => {
        await db.pool.query(`VACUUM ${db.table('jobs')}`)
        const client = await db.pool.connect()
        try {
          await client.query('BEGIN')
          expect(await claimJobs(client, names, claimSql(names), claim())).toEqual([])
          const { rows } = await client.query<{ scans: string; read: string }>(
            `SELECT pg_stat_get_xact_numscans(to_regclass($1)) AS scans, pg_stat_get_xact_tuples_returned(to_regclass($1)) AS read`,
            [index],
          )
          expect(Number(rows[0]!.scans)).toBeGreaterThan(0)
          return Number(rows[0]!.read)
        } finally {
          await client.query('ROLLBACK')
          client.release()
        }
      }
      await waitFor(async () => (await reads()) < 10, {
        timeoutMs: 30_000,
        message: 'a claim to read fewer than 10 entries of the claim index',
      })
    })
  }

  it("a batch enqueue sets its group's later fifo jobs aside at once, behind the first that surely waits", async () => {
    const jobs = await insert(db.store, [
      { groupKey: 'g' },
      { groupKey: 'h' },
      { groupKey: 'g' },
      {},
      { groupKey: 'g', runAt: T0 - 1000 },
      { groupKey: 'h', groupMode: 'release' },
      { groupKey: 'h' },
      // A job with a group lock timeout holds its group only until the timeout runs out: nothing is
      // set aside behind it.
      { groupKey: 't', groupLockTimeoutMs: 1000 },
      { groupKey: 't' },
    ])
    const [g1, h1, g2, free, g3, r, h2, t1, t2] = jobs
    expect(await behind()).toEqual([g2, g3, h2].map(String))
    // Each group's first runs; each end releases the next (no rescue pass).
    expect(ids(await take({ capacity: 20 })).toSorted()).toEqual([g1, h1, free, t1].map(String).toSorted())
    // `t2` is not set aside: only the running `t` job's lock timeout holds it back. `h`'s release job
    // is, behind `h1`, which the claim gave the group's turn.
    expect(await behind()).toEqual([g2, g3, r, h2].map(String))
    await db.store.completeJobs({
      completions: [g1!, h1!].map((id) => ({ id, outcome: 'succeeded' as const })),
      now: T0,
    })
    // `h`'s release job is never set aside: it starts once `h1` ended; `h2` waits behind it.
    expect(ids(await take({ capacity: 20 })).toSorted()).toEqual([g2, r].map(String).toSorted())
    expect(await behind()).toEqual([g3, h2].map(String))
    expect(await behind()).not.toContain(t2)
  })

  it('a batch with a unique key or a schedule tick sets nothing aside: a job skipped on a conflict holds nothing back', async () => {
    const [held] = await insert(db.store, [{ uniqueKey: 'u' }])
    const [dup, k1, k2] = await insert(db.store, [
      { groupKey: 'k', uniqueKey: 'u' },
      { groupKey: 'k' },
      { groupKey: 'k' },
    ])
    expect(dup).toBe(held)
    expect(await behind()).toEqual([])
    expect(ids(await take()).toSorted()).toEqual([held, k1].map(String).toSorted())
    expect(await behind()).toEqual([k2])
  })

  type End = (head: string) => Promise<unknown>
  const complete =
    (outcome: 'succeeded' | 'failed' | 'cancelled'): End =>
    (head) =>
      db.store.completeJobs({
        completions: [outcome === 'succeeded' ? { id: head, outcome } : { id: head, outcome, error }],
        now: T0,
      })
  const ends: Record<string, { head?: Partial<NewJob>; claimHead: boolean; end: End }> = {
    succeeds: { claimHead: true, end: complete('succeeded') },
    'fails for good': { head: { maxAttempts: 1 }, claimHead: true, end: complete('failed') },
    'is cancelled by its worker': { claimHead: true, end: complete('cancelled') },
    'is cancelled while it runs': {
      claimHead: true,
      end: (head) => db.store.cancelJobs({ filter: { ids: [head] }, now: T0 }),
    },
    'is cancelled while it waits': {
      head: { kind: 'other' },
      claimHead: false,
      end: (head) => db.store.cancelJobs({ filter: { ids: [head] }, now: T0 }),
    },
    'is deleted': {
      head: { kind: 'other' },
      claimHead: false,
      end: (head) => db.store.deleteJobs({ filter: { ids: [head] } }),
    },
    'is paused': {
      head: { kind: 'other' },
      claimHead: false,
      end: (head) => db.store.pauseJobs({ filter: { ids: [head] }, now: T0 }),
    },
    'is rescued out of attempts': {
      head: { maxAttempts: 1 },
      claimHead: true,
      // The rescue statement alone: the store's rescue pass would release the job in its sweep too.
      end: () => {
        const names = sqlNames(db.schema)
        return rescueJobs(db.pool, names, rescueSql(names), {
          now: T0 + 60_000,
          staleAfterMs: 10_000,
          limit: 10,
        })
      },
    },
    'fails as an orphan': {
      head: { kind: 'orphan' },
      claimHead: false,
      end: () =>
        db.store.failOrphans({
          now: T0 + 60_000,
          staleAfterMs: 10_000,
          registered: { queues: ['default'], kinds: ['test'] },
          failAfterMs: 1000,
          limit: 10,
        }),
    },
    'is cancelled with its failed dependency': {
      claimHead: false,
      end: async () => {
        const [dependency] = await take({ kinds: ['dependency'] })
        await complete('failed')(dependency!.id)
      },
    },
  }

  for (const [name, c] of Object.entries(ends)) {
    it(`when the head ${name}, the next job of the group runs at once, and only it`, async () => {
      let head: Partial<NewJob> = c.head ?? {}
      if (name.includes('dependency')) {
        const [dependency] = await insert(db.store, [{ kind: 'dependency', maxAttempts: 1 }])
        head = { dependsOn: [dependency!] }
      }
      const [h, a, b] = await group(head)
      expect(ids(await take())).toEqual(c.claimHead ? [h] : [])
      expect(await behind()).toEqual([a, b])
      await c.end(h)
      // No rescue pass: the statement that ended the head released the job after it.
      expect(ids(await take())).toEqual([a])
      expect(await behind()).toEqual([b])
    })
  }

  it('a head that goes back to waiting (retry, snooze) keeps its place: the rest stay aside', async () => {
    const [h, a, b] = await group()
    await take()
    await db.store.completeJobs({ completions: [{ id: h, outcome: 'retry', runAt: T0, error }], now: T0 })
    expect(await behind()).toEqual([a, b])
    expect(ids(await take())).toEqual([h])
    await db.store.completeJobs({ completions: [{ id: h, outcome: 'snoozed', runAt: T0 }], now: T0 })
    expect(await behind()).toEqual([a, b])
    expect(ids(await take())).toEqual([h])
    await complete('succeeded')(h)
    expect(ids(await take())).toEqual([a])
  })

  it('pausing, resuming, retrying or changing a job set aside puts it back in the claim index', async () => {
    const [, a, b] = await group()
    await take()
    expect(await behind()).toEqual([a, b])
    await db.store.pauseJobs({ filter: { ids: [a] }, now: T0 })
    expect(await behind()).toEqual([b])
    await db.store.resumeJobs({ filter: { ids: [a] }, now: T0 })
    expect(await behind()).toEqual([b])
    await db.store.updateJob({ id: b, changes: { priority: 5 }, now: T0 })
    expect(await behind()).toEqual([])
    // Still held: the next claim sets them aside again, and takes neither.
    expect(ids(await take())).toEqual([])
    expect(await behind()).toEqual([a, b])
    await db.store.retryJobs({ filter: { ids: [a] }, now: T0 })
    expect(await behind()).toEqual([b])
    expect(ids(await take())).toEqual([])
  })

  it('the rescue pass releases a job set aside that nothing holds back', async () => {
    const [h, a, b] = await group()
    // A mark that nothing will release: left by a process of an earlier version, say.
    await db.pool.query(`UPDATE ${db.table('jobs')} SET group_behind = true WHERE id = $1`, [h])
    expect(ids(await take())).toEqual([])
    expect(await behind()).toEqual([h, a, b])
    await db.store.rescueJobs({ now: T0, staleAfterMs: 10_000, limit: 10 })
    expect(await behind()).toEqual([a, b])
    expect(ids(await take())).toEqual([h])
  })

  it('one rescue pass releases a job set aside past more than a batch of groups held back as they should be', async () => {
    // 1,100 groups whose second job is set aside behind their waiting first (kind `other`: unclaimed).
    await insert(
      db.store,
      Array.from({ length: 2200 }, (_, i) => ({
        kind: 'other',
        groupKey: `g${String(i % 1100).padStart(4, '0')}`,
      })),
    )
    // After them in key order, a job set aside that nothing holds back.
    const [z] = await insert(db.store, [{ groupKey: 'zzz' }])
    await db.pool.query(`UPDATE ${db.table('jobs')} SET group_behind = true WHERE id = $1`, [z])
    expect((await behind()).length).toBe(1101)
    await db.store.rescueJobs({ now: T0, staleAfterMs: 10_000, limit: 10 })
    expect((await behind()).length).toBe(1100)
    expect(ids(await take())).toEqual([z])
  })

  it('a group whose jobs run with a group lock timeout is never set aside: only time releases it', async () => {
    const timed = { groupKey: 'g', groupLockTimeoutMs: 1000 }
    const [h, a, b] = await insert(db.store, [timed, timed, timed])
    expect(ids(await take())).toEqual([h])
    expect(await behind()).toEqual([])
    expect(ids(await take({ now: T0 + 500 }))).toEqual([])
    expect(ids(await take({ now: T0 + 2000 }))).toEqual([a])
    expect(ids(await take({ now: T0 + 4000 }))).toEqual([b])
  })

  it('a job set aside behind one that runs with a lock timeout is released by the rescue pass', async () => {
    const [h, a, b] = (await insert(db.store, [
      { groupKey: 'g' },
      { groupKey: 'g', groupLockTimeoutMs: 1000 },
      { groupKey: 'g' },
    ])) as [string, string, string]
    expect(ids(await take())).toEqual([h])
    expect(await behind()).toEqual([a, b])
    await complete('succeeded')(h)
    expect(ids(await take())).toEqual([a])
    // `a` runs with a timeout: only time holds `b` back now, which no statement marks. The rescue
    // pass releases it (the worker's process is alive: its jobs are not rescued).
    expect(await behind()).toEqual([b])
    await db.store.recordHeartbeat({ processId: 'worker-1', now: T0 + 500 })
    await db.store.rescueJobs({ now: T0 + 500, staleAfterMs: 10_000, limit: 10 })
    expect(await behind()).toEqual([])
    expect(ids(await take({ now: T0 + 500 }))).toEqual([])
    expect(ids(await take({ now: T0 + 2000 }))).toEqual([b])
  })

  it('a release group sets its waiting jobs aside while one runs; each end releases the best one in claim order', async () => {
    const release = (priority: number) => ({ groupKey: 'r', groupMode: 'release' as const, priority })
    const [r1] = await insert(db.store, [release(0)])
    const [r2] = await insert(db.store, [release(5)])
    const [r3] = await insert(db.store, [release(1)])
    const [r4] = await insert(db.store, [release(1)])
    // The claim that gives `r1` the group's turn sets the others aside at once.
    expect(ids(await take())).toEqual([r1])
    expect(await behind()).toEqual([r2, r3, r4])
    expect(ids(await take())).toEqual([])
    // A waiting job's end releases nothing while `r1` runs.
    const [gone] = await insert(db.store, [release(9)])
    await take()
    expect(await behind()).toEqual([r2, r3, r4, gone])
    await db.store.cancelJobs({ filter: { ids: [gone!] }, now: T0 })
    expect(await behind()).toEqual([r2, r3, r4])
    // `r1`'s end releases one, the best in claim order.
    await complete('succeeded')(r1!)
    expect(await behind()).toEqual([r2, r4])
    expect(ids(await take())).toEqual([r3])
    expect(await behind()).toEqual([r2, r4])
    // A failed job retries later without holding its group: its end releases the next one.
    await db.store.completeJobs({
      completions: [{ id: r3!, outcome: 'retry', runAt: T0 + 60_000, error }],
      now: T0,
    })
    expect(ids(await take())).toEqual([r4])
    expect(await behind()).toEqual([r2])
    await db.store.cancelJobs({ filter: { ids: [r4!] }, now: T0 })
    expect(await behind()).toEqual([])
    expect(ids(await take())).toEqual([r2])
    expect(await behind()).toEqual([])
  })

  it("a claim sets a held job's whole backlog aside in one statement, not only the jobs it meets", async () => {
    // fifo: the later jobs of the group, of a kind this worker does not claim too.
    const [h] = await insert(db.store, [{ groupKey: 'g' }])
    const [a] = await insert(db.store, [{ groupKey: 'g' }])
    const [o] = await insert(db.store, [{ groupKey: 'g', kind: 'other' }])
    // release: the due jobs of the group of the same queue without dependencies, of every kind (since
    // 016); the others are left to the claims that meet them (a release must pick a job that can run).
    const release = { groupKey: 'r', groupMode: 'release' as const }
    const [r1] = await insert(db.store, [release])
    const [r2] = await insert(db.store, [release])
    const [otherKind] = await insert(db.store, [{ ...release, kind: 'other' }])
    const [later] = await insert(db.store, [{ ...release, runAt: T0 + 60_000 }])
    const [dependant] = await insert(db.store, [{ ...release, dependsOn: [h!] }])
    const [r3] = await insert(db.store, [release])
    expect(ids(await take()).toSorted()).toEqual([h, r1].map(String).toSorted())
    expect(await behind()).toEqual([a, o, r2, otherKind, r3].map(String))
    for (const left of [later, dependant]) expect(await behind()).not.toContain(left)
  })

  it('a release group with jobs in several queues: one claim over them takes one, and sets the rest of each queue aside', async () => {
    const release = { groupKey: 'r', groupMode: 'release' as const }
    const jobs = [
      ...(await insert(db.store, [release, release])),
      ...(await insert(db.store, [
        { ...release, queue: 'other' },
        { ...release, queue: 'other' },
      ])),
    ]
    const taken = await take({ queues: ['default', 'other'] })
    expect(taken).toHaveLength(1)
    // The claim gave a turn in each queue and took one: the other queue's turn stays claimable.
    expect(await behind()).toHaveLength(2)
    expect(jobs).toContain(taken[0]!.id)
    expect(await behind()).not.toContain(taken[0]!.id)
    await complete('succeeded')(taken[0]!.id)
    expect(await take({ queues: ['default', 'other'] })).toHaveLength(1)
  })

  it('an end releases the best job set aside of each queue and kind of a release group: the workers of each find one at once', async () => {
    const release = { groupKey: 'r', groupMode: 'release' as const }
    const [r1] = await insert(db.store, [release])
    const [b1, b2] = await insert(db.store, [
      { ...release, priority: 2 },
      { ...release, priority: 1 },
    ])
    const [o1] = await insert(db.store, [{ ...release, queue: 'other' }])
    const [k1] = await insert(db.store, [{ ...release, kind: 'second' }])
    // `r1` runs; the claims of each queue and kind set their jobs of the group aside.
    expect(ids(await take())).toEqual([r1])
    expect(ids(await take({ queues: ['other'] }))).toEqual([])
    expect(ids(await take({ kinds: ['second'] }))).toEqual([])
    expect(await behind()).toEqual([b1, b2, o1, k1])
    // Its end releases the best of each (a worker of one queue never waits for another queue's job).
    await complete('succeeded')(r1!)
    expect(await behind()).toEqual([b1])
    expect(ids(await take({ queues: ['other'] }))).toEqual([o1])
    // While `o1` runs, a claim that meets a job of the group sets its queue's jobs aside again, of
    // every kind, in one call (not those of another queue: a narrower claim there may not take its best).
    expect(ids(await take())).toEqual([])
    expect(await behind()).toEqual([b1, b2, k1])
    // The next end releases the best of each queue and kind with jobs set aside.
    await complete('succeeded')(o1!)
    expect(await behind()).toEqual([b1])
    expect(ids(await take({ kinds: ['second'] }))).toEqual([k1])
    expect(ids(await take())).toEqual([])
    await complete('succeeded')(k1!)
    expect(ids(await take())).toEqual([b2])
    await complete('succeeded')(b2!)
    expect(ids(await take())).toEqual([b1])
  })

  it('a release group held by a job with a group lock timeout is not set aside', async () => {
    const timed = { groupKey: 'r', groupMode: 'release' as const, groupLockTimeoutMs: 1000 }
    const [r1, r2] = (await insert(db.store, [timed, timed])) as [string, string]
    expect(ids(await take())).toEqual([r1])
    expect(ids(await take())).toEqual([])
    expect(await behind()).toEqual([])
    expect(ids(await take({ now: T0 + 2000 }))).toEqual([r2])
  })

  it('the rescue pass releases a release job set aside once no job of its group runs', async () => {
    const release = { groupKey: 'r', groupMode: 'release' as const }
    const [r1] = await insert(db.store, [release])
    const [r2] = await insert(db.store, [release])
    await take()
    await take()
    expect(await behind()).toEqual([r2])
    // While `r1` runs (its process alive), the rescue pass releases nothing.
    await db.store.recordHeartbeat({ processId: 'worker-1', now: T0 })
    await db.store.rescueJobs({ now: T0, staleAfterMs: 10_000, limit: 10 })
    expect(await behind()).toEqual([r2])
    // The running job leaves as a process of version 012 would complete it: no release.
    await db.pool.query(`DELETE FROM ${db.table('jobs')} WHERE id = $1`, [r1])
    expect(ids(await take())).toEqual([])
    await db.store.rescueJobs({ now: T0, staleAfterMs: 10_000, limit: 10 })
    expect(ids(await take())).toEqual([r2])
  })
})

// A job completed in its own transaction at REPEATABLE READ: test/postgres/isolation-levels.test.ts.

describePostgres('group holds: the sweep on its own connection', () => {
  const db = useStore()

  it("survives the server ending the sweep's checked-out connection, and discards it", async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 })
    try {
      let used: pg.PoolClient | undefined
      await expect(
        inReadCommitted(pool, async (client) => {
          used = client as pg.PoolClient
          const [{ pid }] = (await used.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
            { pid: number },
          ]
          // As pg_terminate_backend does: the client gets an 'error' while checked out, then fails.
          await db.pool.query('SELECT pg_terminate_backend($1)', [pid])
          await waitFor(
            async () =>
              (await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0,
          )
          return used.query('SELECT 1')
        }),
      ).rejects.toThrow()
      expect(used).toBeDefined()
      // The next checkout gets a new, working connection.
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await pool.end()
    }
  })
})
