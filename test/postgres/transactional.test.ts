import { expect, it } from 'vitest'
import { createPostgresQueue, withTransaction } from '../../src/adapters/postgres/index.js'
import { InvalidOptionsError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { TransactionHandle } from '../../src/core/ports/store.js'
import { waitFor } from '../support/wait.js'
import { describePostgres, newJob, T0, useStore } from './fixture.js'

describePostgres('transactional enqueue', () => {
  const db = useStore()

  it('inserts in the caller transaction: visible after commit', async () => {
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      const [outcome] = await db.store.insertJobs({ jobs: [newJob()], now: T0, tx: client })
      expect(await db.store.getJob({ id: outcome!.job.id })).toBeNull()
      const inside = await client.query(`SELECT state FROM ${db.table('jobs')} WHERE id = $1`, [
        outcome!.job.id,
      ])
      expect(inside.rows).toEqual([{ state: 'available' }])
      await client.query('COMMIT')
      expect((await db.store.getJob({ id: outcome!.job.id }))?.state).toBe('available')
    } finally {
      client.release()
    }
  })

  it('leaves nothing behind when the caller rolls back', async () => {
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      const [outcome] = await db.store.insertJobs({ jobs: [newJob(), newJob()], now: T0, tx: client })
      await client.query('ROLLBACK')
      expect(await db.store.getJob({ id: outcome!.job.id })).toBeNull()
      expect(await db.store.listJobs({ filter: {}, limit: 10 })).toEqual([])
    } finally {
      client.release()
    }
  })

  it('works with any object that has query(text, values)', async () => {
    const client = await db.pool.connect()
    const seen: string[] = []
    const handle: TransactionHandle = {
      async query(text, values) {
        seen.push(text)
        const result = await client.query(text, values)
        return { rows: result.rows }
      },
    }
    try {
      await client.query('BEGIN')
      const [dep] = await db.store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0, tx: handle })
      const [dup, child] = await db.store.insertJobs({
        jobs: [newJob({ uniqueKey: 'k' }), newJob({ dependsOn: [dep!.job.id] })],
        now: T0,
        tx: handle,
      })
      expect(dup).toMatchObject({ duplicate: true, job: { id: dep!.job.id } })
      expect(child?.job.dependsOn).toEqual([dep!.job.id])
      await client.query('COMMIT')
      expect(seen.length).toBeGreaterThanOrEqual(3)
      expect(await db.store.listJobs({ filter: {}, limit: 10 })).toHaveLength(2)
    } finally {
      client.release()
    }
  })

  it('wakes listeners only when the transaction commits', async () => {
    const woken: (readonly string[])[] = []
    const unsubscribe = db.store.onJobsAvailable((queues) => woken.push(queues))
    await db.store.whenListening()
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      await db.store.insertJobs({ jobs: [newJob({ queue: 'rolled-back' })], now: T0, tx: client })
      await client.query('ROLLBACK')
      await client.query('BEGIN')
      await db.store.insertJobs({ jobs: [newJob({ queue: 'committed' })], now: T0, tx: client })
      await client.query('COMMIT')
      await waitFor(() => woken.length > 0)
      expect(woken).toEqual([['committed']])
    } finally {
      client.release()
      unsubscribe()
    }
  })

  it('reports a handle that returns no rows', async () => {
    const handle: TransactionHandle = { query: async () => 'ok' }
    await expect(db.store.insertJobs({ jobs: [newJob()], now: T0, tx: handle })).rejects.toThrow(/rows/)
  })

  it('refuses a pool as tx (the job would commit on its own), saying to pass the client of an open transaction', async () => {
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
    try {
      const job = defineJob<{ n: number }>({ kind: 'pool-as-tx' })
      for (const call of [
        () => queue.enqueue(job, { n: 1 }, { tx: db.pool }),
        () => queue.enqueueMany([{ job, payload: { n: 1 } }], { tx: db.pool }),
      ]) {
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(InvalidOptionsError)
        expect((error as Error).message).toContain('tx is a connection pool')
        expect((error as Error).message).toContain("await pool.connect(), then client.query('BEGIN')")
      }
      await expect(withTransaction(db.pool, () => queue.enqueue(job, { n: 1 }))).rejects.toThrow(
        'withTransaction(tx, fn): tx is a connection pool',
      )
      expect(await queue.listJobs()).toEqual([])
    } finally {
      await queue.shutdown()
    }
  })

  it('refuses a pg client outside any transaction (no BEGIN: the job would commit at once), and inserts nothing', async () => {
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
    const client = await db.pool.connect()
    try {
      const job = defineJob<{ n: number }>({ kind: 'idle-client-as-tx' })
      for (const call of [
        () => queue.enqueue(job, { n: 1 }, { tx: client }),
        () => queue.enqueueMany([{ job, payload: { n: 1 } }], { tx: client }),
        () => withTransaction(client, () => queue.enqueue(job, { n: 1 })),
      ]) {
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(InvalidOptionsError)
        expect((error as Error).message).toContain('tx is a pg client outside any transaction')
        expect((error as Error).message).toContain("await client.query('BEGIN')")
      }
      // The store reports it as a rejection too, never a synchronous throw.
      const call = db.store.insertJobs({ jobs: [newJob()], now: T0, tx: client })
      await expect(call).rejects.toThrow(InvalidOptionsError)
      expect(await queue.listJobs()).toEqual([])
      // The same client inside BEGIN ... COMMIT is accepted.
      await client.query('BEGIN')
      await queue.enqueue(job, { n: 2 }, { tx: client })
      await client.query('COMMIT')
      expect((await queue.listJobs()).map((j) => j.payload)).toEqual([{ n: 2 }])
    } finally {
      client.release()
      await queue.shutdown()
    }
  })

  it('refuses a pg client whose transaction has already failed, saying to roll it back', async () => {
    const queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
    const client = await db.pool.connect()
    try {
      const job = defineJob<{ n: number }>({ kind: 'failed-tx' })
      await client.query('BEGIN')
      await expect(client.query('SELECT 1 / 0')).rejects.toThrow()
      const error = await queue.enqueue(job, { n: 1 }, { tx: client }).then(
        () => null,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(InvalidOptionsError)
      expect((error as Error).message).toContain('whose transaction has failed')
      expect((error as Error).message).toContain('ROLLBACK')
      await client.query('ROLLBACK')
      expect(await queue.listJobs()).toEqual([])
    } finally {
      if (client.getTransactionStatus() !== 'I') await client.query('ROLLBACK')
      client.release()
      await queue.shutdown()
    }
  })

  it('accepts a client whose BEGIN was sent but is still running (the check cannot know yet)', async () => {
    const client = await db.pool.connect()
    try {
      const begin = client.query('BEGIN')
      const [outcome] = await db.store.insertJobs({ jobs: [newJob()], now: T0, tx: client })
      await begin
      expect(await db.store.getJob({ id: outcome!.job.id })).toBeNull()
      await client.query('COMMIT')
      expect((await db.store.getJob({ id: outcome!.job.id }))?.state).toBe('available')
    } finally {
      client.release()
    }
  })
})
