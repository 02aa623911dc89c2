/**
 * The allocation-lean hot paths of the Postgres adapter (issue 8, W5): claimed records built from a
 * narrower row (state and worker id filled in, empty values shared), and success batches bound as
 * array literals. They must read and write exactly what the general paths do.
 */
import { expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { attemptError } from '../store/helpers.js'
import { claim, describePostgres, insert, T0, useStore } from './fixture.js'

describePostgres('Postgres hot paths', () => {
  const db = useStore()

  it('a claimed record equals the job read back, with state, worker and empty values filled in', async () => {
    const [plain, rich] = await insert(db.store, [
      {},
      { tags: ['a', 'b'], metadata: { team: 'x' }, workflowState: { step: 1 }, uniqueKey: 'u1' },
    ])
    const claimed = await db.store.claimJobs(claim({ workerId: 'w-7:1', now: T0 + 5 }))
    expect(claimed.map((j) => j.id)).toEqual([plain, rich])
    for (const job of claimed) {
      const stored = await db.store.getJob({ id: job.id })
      expect(job).toEqual(stored)
      expect(job).toMatchObject({ state: 'running', attemptedBy: 'w-7:1', attemptedAt: T0 + 5, attempt: 1 })
    }
    expect(claimed[0]).toMatchObject({ tags: [], metadata: {}, errors: [], dependsOn: [] })
    expect(claimed[1]).toMatchObject({
      tags: ['a', 'b'],
      metadata: { team: 'x' },
      workflowState: { step: 1 },
    })
    // Shared empty values are frozen: a handler cannot change another job's record through them.
    expect(Object.isFrozen(claimed[0]!.tags)).toBe(true)
    expect(() => (claimed[0]!.tags as string[]).push('x')).toThrow(TypeError)
  })

  it('a success batch mixes guarded and unguarded attempts, and completions with and without state', async () => {
    const ids = await insert(db.store, [{}, {}, {}, { workflowState: { keep: true } }])
    await db.store.claimJobs(claim())
    const [a, b, c, d] = ids as [string, string, string, string]
    await db.store.completeJobs({
      completions: [
        { id: a, outcome: 'succeeded', attempt: 1 },
        { id: b, outcome: 'succeeded' },
        // a stale attempt: not written
        { id: c, outcome: 'succeeded', attempt: 2 },
        { id: d, outcome: 'succeeded', attempt: 1 },
      ],
      now: T0 + 100,
    })
    const get = async (id: string) => (await db.store.getJob({ id }))!
    expect(await get(a)).toMatchObject({ state: 'succeeded', finishedAt: T0 + 100 })
    expect(await get(b)).toMatchObject({ state: 'succeeded', finishedAt: T0 + 100 })
    expect(await get(c)).toMatchObject({ state: 'running', finishedAt: null })
    expect(await get(d)).toMatchObject({ state: 'succeeded', workflowState: { keep: true } })

    await db.store.completeJobs({
      completions: [{ id: c, outcome: 'succeeded', attempt: 1, workflowState: { done: 1 } }],
      now: T0 + 200,
    })
    expect(await get(c)).toMatchObject({ state: 'succeeded', workflowState: { done: 1 } })
  })

  it('a workflowState of null clears the column to SQL NULL (not a jsonb null), in both statements', async () => {
    const ids = await insert(db.store, [{ workflowState: { step: 1 } }, { workflowState: { step: 1 } }])
    await db.store.claimJobs(claim())
    const [succeeded, failed] = ids as [string, string]
    await db.store.completeJobs({
      completions: [{ id: succeeded, outcome: 'succeeded', workflowState: null }],
      now: T0 + 100,
    })
    await db.store.completeJobs({
      completions: [{ id: failed, outcome: 'failed', error: attemptError(1), workflowState: null }],
      now: T0 + 100,
    })
    const { rows } = await db.pool.query<{ id: string; cleared: boolean }>(
      `SELECT id::text, workflow_state IS NULL AS cleared FROM ${db.everyJob} ORDER BY id`,
    )
    expect(rows).toEqual([
      { id: succeeded, cleared: true },
      { id: failed, cleared: true },
    ])
  })

  it('a run log with a NUL character (jsonb rejects it) is stored with U+FFFD, in both statements', async () => {
    const [succeeded, failed] = (await insert(db.store, [{}, {}])) as [string, string]
    await db.store.claimJobs(claim())
    const logs = {
      attempt: 1,
      lines: [{ at: T0, level: 'info' as const, message: 'a\u0000b', fields: { raw: '\u0000' } }],
    }
    await db.store.completeJobs({ completions: [{ id: succeeded, outcome: 'succeeded', logs }], now: T0 + 1 })
    await db.store.completeJobs({
      completions: [{ id: failed, outcome: 'failed', error: attemptError(1), logs }],
      now: T0 + 1,
    })
    for (const id of [succeeded, failed]) {
      expect((await db.store.getJob({ id }))?.logs?.[0]?.lines[0]).toMatchObject({
        message: 'a\ufffdb',
        fields: { raw: '\ufffd' },
      })
    }
  })

  it('a success batch with an id that is not a number fails as a database error, writing nothing', async () => {
    const [id] = await insert(db.store, [{}])
    await db.store.claimJobs(claim())
    await expect(
      db.store.completeJobs({
        completions: [
          { id: id!, outcome: 'succeeded' },
          { id: '1,2', outcome: 'succeeded' },
        ],
        now: T0 + 100,
      }),
    ).rejects.toThrow()
    expect((await db.store.getJob({ id: id! }))!.state).toBe('running')
  })

  it('a batch of delayed retries and snoozes beside successes is still one statement, timed by the database', async () => {
    const [ok, retried, snoozed] = (await insert(db.store, [{}, {}, {}])) as [string, string, string]
    await db.store.claimJobs(claim())
    const sent: unknown[] = []
    const pool = db.pool
    const spy = new Proxy(pool, {
      get(target, key) {
        if (key === 'query')
          return (...args: unknown[]) => {
            sent.push(args[0])
            return (pool.query as (...a: unknown[]) => unknown)(...args)
          }
        const value = Reflect.get(target, key)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const counting = new PostgresStore({ pool: spy, schema: db.schema })
    await counting.completeJobs({ completions: [{ id: '0', outcome: 'released' }] }) // its schema check, once
    sent.length = 0
    const before = await dbNow()
    await counting.completeJobs({
      completions: [
        { id: ok, outcome: 'succeeded', attempt: 1 },
        { id: retried, outcome: 'retry', delayMs: 1000, error: attemptError(1), attempt: 1 },
        { id: snoozed, outcome: 'snoozed', delayMs: 2000, attempt: 1 },
      ],
    })
    const after = await dbNow()
    expect(sent).toHaveLength(1)
    const r = (await db.store.getJob({ id: retried }))!
    const z = (await db.store.getJob({ id: snoozed }))!
    expect(r).toMatchObject({ state: 'retryable' })
    expect(z).toMatchObject({ state: 'scheduled' })
    expect(r.runAt).toBeGreaterThanOrEqual(before + 1000)
    expect(r.runAt).toBeLessThanOrEqual(after + 1000)
    expect(z.runAt).toBeGreaterThanOrEqual(before + 2000)
    expect(z.runAt).toBeLessThanOrEqual(after + 2000)
  })

  /** The database's `now()` in epoch ms. */
  const dbNow = async (): Promise<number> =>
    Number((await db.pool.query(`SELECT round(date_part('epoch', now()) * 1000) AS now`)).rows[0].now)
})
