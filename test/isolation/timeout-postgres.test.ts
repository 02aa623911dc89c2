/**
 * On PostgreSQL, a handler that blocks the event loop past its timeout fails its attempt in the
 * transactional mode too: its writes roll back and the job is retryable, never succeeded.
 */
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { describePostgres, useStore } from '../postgres/fixture.js'

const busy = defineJob<{ ms: number }>({ kind: 'busy-tx', maxAttempts: 3, timeoutMs: 5 })

/** Blocks the event loop for `ms` of real time (a CPU-bound handler). */
function busyLoop(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // spin
  }
}

describePostgres('a blocking handler past its timeout on PostgreSQL', () => {
  const db = useStore()
  let queue: PostgresQueue
  const rows = () => `${quoteIdentifier(db.schema)}.busy_rows`

  beforeAll(async () => {
    await db.pool.query(`CREATE TABLE IF NOT EXISTS ${rows()} (n int)`)
  })
  beforeEach(async () => {
    await db.pool.query(`TRUNCATE ${rows()}`)
    queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
  })
  afterEach(async () => {
    await queue.shutdown({ graceMs: 1000 })
  })

  it('is a failed attempt in transactional mode: the writes roll back, the job is retryable', async () => {
    queue.register(
      busy,
      async ({ ms }, ctx) => {
        await ctx.tx!.query(`INSERT INTO ${rows()} (n) VALUES (1)`)
        busyLoop(ms)
      },
      { transactional: true },
    )
    const { id } = await queue.enqueue(busy, { ms: 30 })
    expect(await queue.drain()).toMatchObject({ succeeded: 0, retried: 1 })
    expect(await queue.getJob(id)).toMatchObject({
      state: 'retryable',
      errors: [expect.objectContaining({ name: 'JobTimeoutError' })],
    })
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ${rows()}`)).rows[0].n).toBe(0)
  })

  it('is a failed attempt in plain drain', async () => {
    queue.register(busy, ({ ms }) => busyLoop(ms))
    const { id } = await queue.enqueue(busy, { ms: 30 }, { maxAttempts: 1 })
    expect(await queue.drain()).toMatchObject({ succeeded: 0, failed: 1 })
    expect(await queue.getJob(id)).toMatchObject({
      state: 'failed',
      errors: [expect.objectContaining({ name: 'JobTimeoutError' })],
    })
  })
})
