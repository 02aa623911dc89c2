import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createPostgresQueue, DEFAULT_PREFETCH, poolSizeFor } from '../../src/adapters/postgres/index.js'
import { AUTO_PREFETCH } from '../../src/core/defaults.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

const transactional = (concurrency?: number) => ({ queues: ['default'], concurrency, transactional: true })

describe('poolSizeFor', () => {
  it('counts one connection per running job of transactional workers, plus two', () => {
    expect(poolSizeFor({})).toBe(0)
    expect(poolSizeFor({ workers: [{ queues: ['a'], concurrency: 50 }] })).toBe(0)
    expect(poolSizeFor({ workers: [transactional(4)] })).toBe(6)
    expect(poolSizeFor({ workers: [transactional(), transactional(3), { queues: ['b'] }] })).toBe(15)
  })

  it('counts the workers serving the queues of kinds registered with { transactional: true }', () => {
    expect(poolSizeFor({ queues: { default: { concurrency: 10 } } })).toBe(0)
    expect(poolSizeFor({ queues: { default: { concurrency: 10 } } }, ['default'])).toBe(12)
    expect(poolSizeFor({ queues: { a: { concurrency: 3 }, b: { concurrency: 5 } } }, ['b'])).toBe(7)
    // Without queues or workers, the default worker serves every registered kind's queue.
    expect(poolSizeFor({}, ['mail'])).toBe(12)
    expect(poolSizeFor({ workers: [{ queues: ['a', 'b'], concurrency: 4 }, transactional(2)] }, ['b'])).toBe(
      8,
    )
  })
})

describe('createPostgresQueue option checks', () => {
  it('refuses both a pool and a connection string, since one of them would be ignored', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/unused' })
    try {
      expect(() =>
        createPostgresQueue({ pool, connectionString: 'postgres://postgres@127.0.0.1/x' }),
      ).toThrow(InvalidArgumentError)
      expect(() =>
        createPostgresQueue({ pool, connectionString: 'postgres://postgres@127.0.0.1/x' }),
      ).toThrow(
        'Give either pool (your own pg.Pool, left open by shutdown) or connectionString (a pool the queue opens and ends), not both.',
      )
      expect(() => createPostgresQueue({ pool, maxConnections: 5 })).toThrow(
        'maxConnections sizes the pool the queue opens from connectionString; with your own pool, set its size there: new pg.Pool({ max: 5 }).',
      )
    } finally {
      await pool.end()
    }
  })
})

describePostgres('createPostgresQueue defaults and pool checks', () => {
  const db = useStore()

  it('rejects a pool too small for its transactional workers, saying how to size it', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 5 })
    try {
      expect(() => createPostgresQueue({ pool, workers: [transactional(4)] })).toThrow(InvalidArgumentError)
      expect(() => createPostgresQueue({ pool, workers: [transactional(4)] })).toThrow(/max: 6/)
      // Enough for concurrency 3, and any size for workers that are not transactional.
      await createPostgresQueue({ pool, workers: [transactional(3)] }).shutdown()
      await createPostgresQueue({ pool, workers: [{ queues: ['default'], concurrency: 50 }] }).shutdown()
    } finally {
      await pool.end()
    }
  })

  it('refuses to start when a pool is too small for the handlers registered with { transactional: true }', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 3 })
    const charge = defineJob({ kind: 'charge' })
    try {
      const queue = createPostgresQueue({ pool, schema: db.schema, queues: { default: { concurrency: 10 } } })
      queue.register(charge, async () => {}, { transactional: true })
      await expect(queue.start()).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(queue.start()).rejects.toThrow(
        /allows 3 connections, but jobs running in their own transaction need 12.*new pg\.Pool\(\{ max: 12 \}\)/,
      )
      await queue.shutdown()
      const tooFew = createPostgresQueue({
        connectionString: databaseUrl(),
        maxConnections: 5,
        schema: db.schema,
      })
      tooFew.register(charge, async () => {}, { transactional: true })
      await expect(tooFew.start()).rejects.toThrow(/maxConnections: 12/)
      await tooFew.shutdown()
      // The same handler registered without transactional needs no more connections.
      const plain = createPostgresQueue({ pool, schema: db.schema, queues: { default: { concurrency: 10 } } })
      plain.register(charge, async () => {})
      await plain.start()
      await plain.shutdown()
    } finally {
      await pool.end()
    }
  })

  it('grows its own pool at start for the handlers registered with { transactional: true }', async () => {
    const queue = createPostgresQueue({
      connectionString: databaseUrl(),
      schema: db.schema,
      queues: { default: { concurrency: 30 } },
    })
    expect(queue.store.pool.options.max).toBe(10)
    queue.register(defineJob({ kind: 'charge' }), async () => {}, { transactional: true })
    await queue.start()
    expect(queue.store.pool.options.max).toBe(32)
    await queue.shutdown()
  })

  it('sizes its own pool for transactional workers, and rejects a maxConnections too small', async () => {
    const connectionString = databaseUrl()
    expect(() =>
      createPostgresQueue({ connectionString, maxConnections: 3, workers: [transactional(4)] }),
    ).toThrow(/maxConnections: 6/)
    const queue = createPostgresQueue({ connectionString, workers: [transactional(30)] })
    expect(queue.store.pool.options.max).toBe(32)
    await queue.shutdown()
  })

  it('passes durableClaims on: claims then commit durably on the main pool', async () => {
    const kind = defineJob({ kind: 'durable' })
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema, durableClaims: true })
    expect(queue.store.durableClaims).toBe(true)
    queue.register(kind, () => {})
    await queue.enqueue(kind, {})
    expect((await queue.drain()).succeeded).toBe(1)
    await queue.shutdown()
    const fast = createPostgresQueue({ pool: db.pool, schema: db.schema })
    expect(fast.store.durableClaims).toBe(false)
    await fast.shutdown()
    expect(() => createPostgresQueue({ pool: db.pool, durableClaims: 'yes' as never })).toThrow(
      InvalidArgumentError,
    )
  })

  it("claims ahead of its concurrency by default ('auto', from its base), and not when prefetch is 0", async () => {
    const kind = defineJob({ kind: 'held' })
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const runningCount = async () =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM ${db.table('jobs')} WHERE state = 'running'`))
        .rows[0].n as number
    for (const prefetch of [undefined, 0]) {
      const queue = createPostgresQueue({
        pool: db.pool,
        schema: db.schema,
        workers: [{ queues: ['default'], concurrency: 1 }],
        prefetch,
      })
      queue.register(kind, () => held)
      await queue.enqueueMany(
        Array.from({ length: AUTO_PREFETCH.base + 50 }, () => ({ job: kind, payload: {} })),
      )
      await queue.start()
      const expected = prefetch === 0 ? 1 : 1 + AUTO_PREFETCH.base
      await waitFor(async () => (await runningCount()) === expected, { message: `${expected} running` })
      await queue.shutdown({ graceMs: 0 })
      await db.store.deleteJobs({ filter: {} })
    }
    release()
  })

  it("grows the default buffer on a backlog of fast jobs, within AUTO_PREFETCH's bounds", async () => {
    expect(DEFAULT_PREFETCH).toBe('auto')
    const kind = defineJob({ kind: 'fast' })
    const queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      workers: [{ queues: ['default'], concurrency: 10 }],
    })
    const asked: number[] = []
    const claim = queue.store.claimJobs.bind(queue.store)
    queue.store.claimJobs = (params) => {
      asked.push(params.capacity)
      return claim(params)
    }
    queue.register(kind, async () => {})
    await queue.enqueueMany(Array.from({ length: 3000 }, () => ({ job: kind, payload: {} })))
    await queue.start()
    try {
      await waitFor(
        async () => (await queue.stats()).some((s) => s.queue === 'default' && s.counts.succeeded === 3000),
        {
          message: 'all 3000 jobs succeeded',
          timeoutMs: 30_000,
        },
      )
    } finally {
      await queue.shutdown()
    }
    // It starts at the base and grows within its bounds (reaching the maximum takes two starved
    // claims in a row; the worker unit tests pin that down with a controlled store).
    expect(asked[0]).toBe(10 + AUTO_PREFETCH.base)
    expect(Math.max(...asked)).toBeGreaterThan(10 + AUTO_PREFETCH.base)
    expect(Math.max(...asked)).toBeLessThanOrEqual(10 + AUTO_PREFETCH.max)
  })
})
