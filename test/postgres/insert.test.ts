import { expect, it } from 'vitest'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { InvalidPayloadError } from '../../src/core/domain/errors.js'
import { describeStore, newJob, T0, useStore } from './fixture.js'

// The insert's rules are in the store-level suite (test/store/cases/insert.ts); this is what only PostgreSQL refuses.
describeStore('PostgresStore.insertJobs', () => {
  const db = useStore()

  it('rejects a payload PostgreSQL cannot store with InvalidPayloadError', async () => {
    const attempt = db.store.insertJobs({ jobs: [newJob({ payload: { text: 'nul \u0000 byte' } })], now: T0 })
    await expect(attempt).rejects.toBeInstanceOf(InvalidPayloadError)
  })

  it('stores a null workflowState, backoff and trace context as SQL NULL (not a jsonb null), in both statements', async () => {
    const nulls = { workflowState: null, backoff: null, traceContext: null }
    await db.store.insertJobs({
      jobs: [
        newJob(nulls),
        newJob({
          workflowState: { step: 1 },
          backoff: { baseMs: 1, factor: 2, maxMs: 10, jitter: 0 },
          traceContext: { a: 'b' },
        }),
      ],
      now: T0,
    })
    await db.store.insertJobs({ jobs: [newJob(nulls)], now: T0 })
    const { rows } = await db.pool.query(
      `SELECT id::text, workflow_state IS NULL AS w, backoff IS NULL AS b, trace_context IS NULL AS t
       FROM ${db.everyJob} ORDER BY id`,
    )
    expect(rows).toEqual([
      { id: '1', w: true, b: true, t: true },
      { id: '2', w: false, b: false, t: false },
      { id: '3', w: true, b: true, t: true },
    ])
  })

  it('returns the holder of a duplicate inserted alone without now (the database time)', async () => {
    const [first] = await db.store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })] })
    const [again] = await db.store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })] })
    expect(again).toMatchObject({ duplicate: true, job: { id: first?.job.id } })
  })

  it('inserts again when the id it was given is taken (a sequence a little behind): the job gets the next free id', async () => {
    const s = quoteIdentifier(db.schema)
    // Ids 1 and 2 taken explicitly: the sequence hands out 1, then 2, then 3.
    await db.pool.query(
      `INSERT INTO ${s}.jobs (id, kind, queue, state, payload, run_at, created_at, max_attempts, finished_at)
       SELECT g, 'restored', 'default', 'succeeded', '{}', now(), now(), 1, now() FROM generate_series(1, 2) g`,
    )
    const [inserted] = await db.store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 })
    expect(inserted).toMatchObject({ duplicate: false, job: { id: '3', uniqueKey: 'k', state: 'available' } })
  })
})
