/**
 * `DatabaseClock`: the time of the database it reads (here a database whose clock is an hour ahead
 * of this host, by rewriting its one statement), carried forward on the monotonic clock, marked real
 * time; a failed reading is reported and tried again on the next `ready()`; a drain that waits for
 * the first reading while shutdown begins ends as a stopped drain.
 */
import { expect, it } from 'vitest'
import { DatabaseClock, type TimeQueryable } from '../../src/adapters/postgres/database-clock.js'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { storeNow } from '../../src/core/ports/clock.js'
import { waitFor } from '../support/wait.js'
import { describePostgres, useStore } from './fixture.js'

const HOUR = 3_600_000
const MINUTE = 60_000

describePostgres('DatabaseClock', () => {
  const db = useStore()
  /** The database, seen through a clock an hour ahead of this host's. */
  const hourAhead = (): TimeQueryable => ({
    query: (text) =>
      db.pool.query(text.replace('clock_timestamp()', "(clock_timestamp() + interval '1 hour')")),
  })

  it("reads the database's time, carries it forward, and makes the core omit now", async () => {
    const clock = new DatabaseClock(hourAhead())
    expect(clock.synced).toBe(false)
    await clock.ready()
    expect(clock.synced).toBe(true)
    const offset = clock.now() - Date.now()
    expect(offset).toBeGreaterThan(HOUR - MINUTE)
    expect(offset).toBeLessThan(HOUR + MINUTE)
    const first = clock.now()
    await db.pool.query('SELECT 1')
    expect(clock.now()).toBeGreaterThanOrEqual(first)
    expect(storeNow(clock)).toBeUndefined()
  })

  it('reports a failed reading, keeps the host time meanwhile, and reads again on the next ready()', async () => {
    const errors: unknown[] = []
    let calls = 0
    const flaky: TimeQueryable = {
      query: (text) => {
        calls++
        if (calls === 1) return Promise.reject(new Error('connection refused'))
        return hourAhead().query(text)
      },
    }
    const clock = new DatabaseClock(flaky, { onError: (e) => errors.push(e) })
    await clock.ready()
    expect(errors).toHaveLength(1)
    expect(clock.synced).toBe(false)
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(MINUTE)
    await clock.ready()
    expect(clock.synced).toBe(true)
    expect(clock.now() - Date.now()).toBeGreaterThan(HOUR - MINUTE)
  })

  /** The database's `now()` in epoch ms (the time its statements use). */
  const dbNow = async (): Promise<number> =>
    Number((await db.pool.query(`SELECT round(date_part('epoch', now()) * 1000) AS now`)).rows[0].now)

  it("a retry's and a snooze's run time follow the database's clock, not a process clock an hour ahead", async () => {
    const clock = new DatabaseClock(hourAhead())
    await clock.ready()
    expect(clock.now() - (await dbNow())).toBeGreaterThan(HOUR - MINUTE)
    const flaky = defineJob<{ snooze: boolean }>({ kind: 'flaky' })
    const queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      clock,
      workers: [{ queues: ['default'], concurrency: 2 }],
    })
    queue.register(flaky, (payload, ctx) => {
      if (payload.snooze) return ctx.snooze(20 * MINUTE)
      throw new Error('try again later')
    })
    // Due on any clock (a job enqueued "now" would be an hour early here: enqueue times come from the queue's clock).
    const runAt = Date.now() - HOUR
    const retried = await queue.enqueue(
      flaky,
      { snooze: false },
      { runAt, backoff: { baseMs: 10 * MINUTE, jitter: 0 } },
    )
    const snoozed = await queue.enqueue(flaky, { snooze: true }, { runAt })
    const before = await dbNow()
    await queue.start()
    try {
      const jobs = await waitFor(async () => {
        const [r, s] = [await queue.getJob(retried.id), await queue.getJob(snoozed.id)]
        return r?.state === 'retryable' && s?.state === 'scheduled' ? { r, s } : null
      })
      const after = await dbNow()
      // Due 10 and 20 minutes after the database's time of the write, not after the process's.
      expect(jobs.r.runAt).toBeGreaterThanOrEqual(before + 10 * MINUTE)
      expect(jobs.r.runAt).toBeLessThanOrEqual(after + 10 * MINUTE)
      expect(jobs.s.runAt).toBeGreaterThanOrEqual(before + 20 * MINUTE)
      expect(jobs.s.runAt).toBeLessThanOrEqual(after + 20 * MINUTE)
    } finally {
      await queue.shutdown()
    }
  })

  it('drain writes a retry and a snooze on the database clock too', async () => {
    const clock = new DatabaseClock(hourAhead())
    await clock.ready()
    expect(clock.now() - (await dbNow())).toBeGreaterThan(HOUR - MINUTE)
    const flaky = defineJob<{ snooze: boolean }>({ kind: 'flaky' })
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema, clock })
    queue.register(flaky, (payload, ctx) => {
      if (payload.snooze) return ctx.snooze(20 * MINUTE)
      throw new Error('try again later')
    })
    // Due on any clock (a job enqueued "now" would be an hour early here: enqueue times come from the queue's clock).
    const runAt = Date.now() - HOUR
    const retried = await queue.enqueue(
      flaky,
      { snooze: false },
      { runAt, backoff: { baseMs: 10 * MINUTE, jitter: 0 } },
    )
    const snoozed = await queue.enqueue(flaky, { snooze: true }, { runAt })
    const before = await dbNow()
    try {
      expect(await queue.drain()).toMatchObject({ retried: 1 })
      const after = await dbNow()
      const r = (await queue.getJob(retried.id))!
      const s = (await queue.getJob(snoozed.id))!
      expect(r).toMatchObject({ state: 'retryable' })
      expect(s).toMatchObject({ state: 'scheduled' })
      expect(r.runAt).toBeGreaterThanOrEqual(before + 10 * MINUTE)
      expect(r.runAt).toBeLessThanOrEqual(after + 10 * MINUTE)
      expect(s.runAt).toBeGreaterThanOrEqual(before + 20 * MINUTE)
      expect(s.runAt).toBeLessThanOrEqual(after + 20 * MINUTE)
    } finally {
      await queue.shutdown()
    }
  })

  it('a drain called before shutdown, still waiting for the clock, ends stopped as on any queue (not refused)', async () => {
    const work = defineJob<{ n: number }>({ kind: 'clock-drain' })
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
    queue.register(work, () => undefined)
    const draining = queue.drain()
    await queue.shutdown({ graceMs: 1000 })
    expect(await draining).toMatchObject({ total: 0, stopped: true })
  })
})
