/**
 * Outcome events follow the completion's commit on PostgreSQL, under real faults: while a worker's
 * completion waits on a row lock, no `succeeded` event is seen, and it fires once the write lands
 * (the job is stored succeeded by then); a completion the database refuses (a trigger that raises,
 * an error retrying cannot fix) is given up and emits no outcome event, its job left running for the
 * rescue.
 */
import { afterEach, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { CompletionNotWrittenError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { waitFor } from '../support/wait.js'
import { describePostgres, useStore } from './fixture.js'

const task = defineJob<{ n: number }>({ kind: 'outcome-task' })

describePostgres('outcome events follow the completion write', () => {
  const db = useStore()
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  /** A started queue on the test schema whose handler waits for `release()`; records outcome events. */
  async function startQueue() {
    const queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      queues: { default: { concurrency: 1 } },
    })
    closers.push(() => queue.shutdown({ graceMs: 0 }))
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let running = false
    queue.register(task, async () => {
      running = true
      await released
    })
    const seen: string[] = []
    const storedAtEvent: Promise<string | undefined>[] = []
    for (const name of ['succeeded', 'failed', 'retried', 'discarded', 'cancelled'] as const) {
      queue.on(name, ({ job }) => {
        seen.push(name)
        storedAtEvent.push(queue.getJob(job.id).then((j) => j?.state))
      })
    }
    const errors: unknown[] = []
    queue.on('error', ({ error }) => errors.push(error))
    const { id } = await queue.enqueue(task, { n: 1 })
    await queue.start()
    await waitFor(() => running, { message: 'the handler to start' })
    return { queue, id, release, seen, storedAtEvent, errors }
  }

  const stateOf = async (id: string) =>
    (await db.pool.query(`SELECT state FROM ${db.table('jobs')} WHERE id = $1`, [id])).rows[0]?.state

  it('no succeeded event while the completion waits on a row lock; it fires once the write commits', async () => {
    const { id, release, seen, storedAtEvent } = await startQueue()
    const holder = await db.pool.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT 1 FROM ${db.table('jobs')} WHERE id = $1 FOR UPDATE`, [id])
      release()
      await waitFor(
        async () =>
          // Only the session this holder blocks: other test files' completions wait on locks too.
          (
            await db.pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid)) AND query LIKE '%succeeded%'`,
              [(holder as unknown as { processID: number }).processID],
            )
          ).rowCount === 1,
        { message: 'the completion to wait on the row lock' },
      )
      expect(seen).toEqual([])
      expect(await stateOf(id)).toBe('running')
      await holder.query('ROLLBACK')
    } finally {
      holder.release()
    }
    await waitFor(() => seen.length > 0, { message: 'the succeeded event' })
    expect(seen).toEqual(['succeeded'])
    expect(await Promise.all(storedAtEvent)).toEqual(['succeeded'])
  })

  it('a completion the database refuses emits no outcome event; the job stays running', async () => {
    const s = `"${db.schema}"`
    await db.pool.query(`
      CREATE OR REPLACE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.state = 'succeeded' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; END $$`)
    await db.pool.query(
      // A finished job moves to history: refuse its insert there (triggers on a partitioned table apply to every partition).
      `CREATE OR REPLACE TRIGGER refuse BEFORE INSERT ON ${db.table('job_history')} FOR EACH ROW EXECUTE FUNCTION ${s}.refuse()`,
    )
    closers.push(
      async () => void (await db.pool.query(`DROP TRIGGER IF EXISTS refuse ON ${db.table('job_history')}`)),
    )
    const { queue, id, release, seen, errors } = await startQueue()
    release()
    await waitFor(() => errors.some((e) => e instanceof CompletionNotWrittenError), {
      message: 'the completer to give the completion up',
    })
    // Given up means done with: whatever it would emit, it has emitted by now.
    await queue.shutdown({ graceMs: 0 })
    expect(seen).toEqual([])
    expect(await stateOf(id)).toBe('running')
  })
})
