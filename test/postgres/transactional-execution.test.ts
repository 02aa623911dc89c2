import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { JobContext } from '../../src/core/ports/queue.js'
import { waitFor } from '../support/wait.js'
import { describePostgres, useStore } from './fixture.js'

const work = defineJob<{ name: string }>({ kind: 'tx-work', maxAttempts: 3 })

describePostgres('transactional execution through the queue', () => {
  const db = useStore()
  let queue: PostgresQueue
  const rows = () => `${quoteIdentifier(db.schema)}.tx_rows`
  const names = async () =>
    (await db.pool.query(`SELECT name FROM ${rows()} ORDER BY name`)).rows.map((r) => r.name)
  const write = (ctx: JobContext, name: string) =>
    ctx.tx!.query(`INSERT INTO ${rows()} (name) VALUES ($1)`, [name])

  beforeAll(async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS ${rows()} (name text PRIMARY KEY)`)
  })
  beforeEach(async () => {
    await db.pool.query(`TRUNCATE ${rows()}`)
    queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
  })
  afterEach(async () => {
    await queue.shutdown({ graceMs: 1000 })
  })

  /** Registers `handler` for `work` in transactional mode and enqueues one job; returns its id. */
  async function enqueueWith(handler: (payload: { name: string }, ctx: JobContext) => unknown) {
    queue.register(work, handler, { transactional: true })
    return (await queue.enqueue(work, { name: 'row' })).id
  }

  it('commits the handler’s writes with the job’s success', async () => {
    const id = await enqueueWith(async ({ name }, ctx) => {
      expect(ctx.tx).not.toBeNull()
      await write(ctx, name)
    })
    expect(await queue.drain()).toMatchObject({ succeeded: 1, total: 1 })
    expect(await queue.getJob(id)).toMatchObject({ state: 'succeeded', attempt: 1 })
    expect(await names()).toEqual(['row'])
  })

  it('rolls the handler’s writes back when it throws, and schedules the retry', async () => {
    const id = await enqueueWith(async ({ name }, ctx) => {
      await write(ctx, name)
      throw new Error('after the insert')
    })
    expect(await queue.drain()).toMatchObject({ retried: 1 })
    const job = await queue.getJob(id)
    expect(job).toMatchObject({ state: 'retryable', attempt: 1 })
    expect(job?.errors.map((e) => e.message)).toEqual(['after the insert'])
    expect(await names()).toEqual([])
  })

  it('rolls the handler’s writes back when an operator cancels the job while it runs', async () => {
    const id = await enqueueWith(async ({ name }, ctx) => {
      await write(ctx, name)
      await queue.cancelJobs({ ids: [ctx.job.id] })
    })
    await queue.drain()
    expect(await queue.getJob(id)).toMatchObject({ state: 'cancelled' })
    expect(await names()).toEqual([])
  })

  it('rolls the handler’s writes back when the job was rescued meanwhile, and leaves the rescue in place', async () => {
    // Another process declares this one dead while the handler runs (no cancel notification, so
    // the handler finishes normally and its success must be discarded by the attempt guard).
    const other = new PostgresStore({ pool: db.pool, schema: db.schema })
    const id = await enqueueWith(async ({ name }, ctx) => {
      await write(ctx, name)
      const rescued = await other.rescueJobs({ now: Date.now(), staleAfterMs: -60_000, limit: 10 })
      expect(rescued.map((j) => j.id)).toEqual([ctx.job.id])
    })
    try {
      await queue.drain({ limit: 1 })
    } finally {
      await other.close()
    }
    const job = await queue.getJob(id)
    expect(job).toMatchObject({ state: 'retryable', attempt: 1, finishedAt: null })
    expect(job?.errors.map((e) => e.name)).toEqual(['WorkerDied'])
    expect(await names()).toEqual([])
  })

  it('commits a snooze together with the handler’s writes', async () => {
    const id = await enqueueWith(async ({ name }, ctx) => {
      await write(ctx, name)
      return ctx.snooze(60_000)
    })
    expect(await queue.drain()).toMatchObject({ snoozed: 1 })
    expect(await queue.getJob(id)).toMatchObject({ state: 'scheduled', attempt: 0 })
    expect(await names()).toEqual(['row'])
  })

  it('runs every job of a transactional worker in its own transaction', async () => {
    await queue.shutdown()
    queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      workers: [{ queues: ['default'], concurrency: 3, transactional: true }],
      pollIntervalMs: 50,
    })
    queue.register(work, async ({ name }, ctx) => {
      await write(ctx, name)
      if (name.startsWith('bad')) throw new Error('rolled back')
    })
    await queue.enqueueMany(['a', 'b', 'c', 'bad-d', 'e'].map((name) => ({ job: work, payload: { name } })))
    await queue.start()
    await waitFor(async () => {
      const stats = await queue.stats()
      const counts = stats.find((s) => s.queue === 'default')?.counts
      return counts?.succeeded === 4 && counts.retryable === 1
    })
    expect(await names()).toEqual(['a', 'b', 'c', 'e'])
  })

  /** Statements of the handler still running on the server (tagged so other files' never match). */
  const running = async (tag: string) =>
    (
      await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
        [tag],
      )
    ).rows[0].n as number

  it('cancels the statement a timed-out handler left running, so the rollback and the retry do not wait for it', async () => {
    const tag = `slow_${Date.now()}`
    const slow = defineJob<{ name: string }>({ kind: 'tx-slow', maxAttempts: 3, timeoutMs: 300 })
    queue.register(
      slow,
      async ({ name }, ctx) => {
        await write(ctx, name)
        // A minute: a lock wait, or a slow report. Without the cancel, the test times out.
        await ctx.tx!.query(`SELECT pg_sleep(60) AS ${tag}`)
      },
      { transactional: true },
    )
    const { id } = await queue.enqueue(slow, { name: 'row' })
    expect(await queue.drain()).toMatchObject({ retried: 1, total: 1 })
    const job = await queue.getJob(id)
    expect(job).toMatchObject({ state: 'retryable', attempt: 1 })
    expect(job?.errors.map((e) => e.name)).toEqual(['JobTimeoutError'])
    expect(await names()).toEqual([])
    // Cancelled, and its session closed: the server ends the statement (waited for, with a timeout).
    await waitFor(async () => (await running(tag)) === 0)
  })

  it('shutdown after its grace period cancels the statement a transactional job runs and returns the job', async () => {
    const tag = `slow_${Date.now()}`
    let started = false
    const id = await enqueueWith(async ({ name }, ctx) => {
      await write(ctx, name)
      started = true
      await ctx.tx!.query(`SELECT pg_sleep(60) AS ${tag}`)
    })
    await queue.start()
    await waitFor(() => started && (async () => (await running(tag)) === 1)())
    await queue.shutdown({ graceMs: 200 })
    expect(await db.store.getJob({ id })).toMatchObject({ state: 'available', attempt: 0 })
    expect(await names()).toEqual([])
    // Cancelled, and its session closed: the server ends the statement (waited for, with a timeout).
    await waitFor(async () => (await running(tag)) === 0)
  })
})
