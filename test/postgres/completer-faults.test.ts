/**
 * The completer's write retries against real faults: a terminated completion connection is retried
 * and the completion lands; an error that is not transient (a trigger that raises) is reported once,
 * the rest of its batch is still written, and the job is left running for the rescue; a database that
 * cannot be reached is retried a bounded number of times, then reported, and the completer goes idle
 * instead of spinning.
 */
import pg from 'pg'
import { afterEach, expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { ConveyorError, StorageConflictError, StorageUnavailableError } from '../../src/core/domain/errors.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { Completer } from '../../src/core/runtime/completer.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, T0, useStore } from './fixture.js'

describePostgres('completer: bounded, classified write retries on PostgreSQL', () => {
  const db = useStore()
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
  })

  /** A store on a pool of its own with one connection, so the test knows which backend completes. */
  async function ownStore(
    url = databaseUrl(),
    options?: string,
  ): Promise<{ store: PostgresStore; pool: pg.Pool }> {
    const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 2000, options })
    pool.on('error', () => {})
    const store = new PostgresStore({ pool, schema: db.schema })
    closers.push(async () => {
      await store.close()
      await pool.end()
    })
    return { store, pool }
  }

  const stateOf = async (id: string) =>
    (await db.pool.query(`SELECT state FROM ${db.everyJob} WHERE id = $1`, [id])).rows[0]?.state

  it('retries a completion whose connection was terminated mid-write, and it lands', async () => {
    const [id] = (await insert(db.store, [{}])) as [string]
    const [job] = await db.store.claimJobs(claim())
    const { store, pool } = await ownStore()
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    // Hold the job's row so the completion waits on it, then terminate the completion's backend.
    const holder = await db.pool.connect()
    await holder.query('BEGIN')
    await holder.query(`SELECT 1 FROM ${db.table('jobs')} WHERE id = $1 FOR UPDATE`, [id])
    const errors: unknown[] = []
    const completer = new Completer({ store, clock: new ManualClock(T0), onError: (e) => errors.push(e) })
    const written = completer.complete({ id, outcome: 'succeeded', attempt: job!.attempt })
    await waitFor(
      async () =>
        (
          await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [
            pid,
          ])
        ).rowCount === 1,
      { message: 'the completion to wait on the row lock' },
    )
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid])
    await holder.query('ROLLBACK')
    holder.release()
    await written
    expect(await stateOf(id)).toBe('succeeded')
    expect(errors.length).toBeGreaterThanOrEqual(1)
    expect(errors.every((e) => e instanceof StorageUnavailableError)).toBe(true)
  })

  it('retries a completion refused by a lock timeout (a conflict), and it lands once the lock is gone', async () => {
    const [id] = (await insert(db.store, [{}])) as [string]
    const [job] = await db.store.claimJobs(claim())
    const { store } = await ownStore(databaseUrl(), '-c lock_timeout=20')
    const holder = await db.pool.connect()
    await holder.query('BEGIN')
    await holder.query(`SELECT 1 FROM ${db.table('jobs')} WHERE id = $1 FOR UPDATE`, [id])
    const errors: unknown[] = []
    const completer = new Completer({ store, clock: new ManualClock(T0), onError: (e) => errors.push(e) })
    const written = completer.complete({ id, outcome: 'succeeded', attempt: job!.attempt })
    await waitFor(() => errors.length > 0, { message: 'the completion to be refused by the lock timeout' })
    await holder.query('ROLLBACK')
    holder.release()
    await written
    expect(await stateOf(id)).toBe('succeeded')
    expect(errors.every((e) => e instanceof StorageConflictError)).toBe(true)
  })

  it('reports a non-transient error once, writes the rest of its batch, and leaves that job running', async () => {
    const [good, bad] = (await insert(db.store, [{}, {}])) as [string, string]
    const jobs = await db.store.claimJobs(claim())
    const s = `"${db.schema}"`
    await db.pool.query(`
      CREATE OR REPLACE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = ${bad} AND NEW.state = 'succeeded' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; END $$`)
    await db.pool.query(
      `CREATE OR REPLACE TRIGGER refuse BEFORE INSERT ON ${db.table('job_history')} FOR EACH ROW EXECUTE FUNCTION ${s}.refuse()`,
    )
    closers.push(
      async () => void (await db.pool.query(`DROP TRIGGER IF EXISTS refuse ON ${db.table('job_history')}`)),
    )
    const errors: unknown[] = []
    const completer = new Completer({
      store: db.store,
      clock: new ManualClock(T0),
      onError: (e) => errors.push(e),
    })
    const written: string[] = []
    for (const job of jobs)
      completer.add({ id: job.id, outcome: 'succeeded', attempt: job.attempt }, () => written.push(job.id))
    await completer.idle()
    expect(await stateOf(good)).toBe('succeeded')
    expect(await stateOf(bad)).toBe('running')
    // The batch failed, then each completion alone: the good one landed, the bad one was given up.
    expect(errors.map((e) => (e instanceof Error ? e.message : String(e)))).toEqual([
      expect.stringContaining('refused by a trigger'),
      expect.stringContaining('refused by a trigger'),
      expect.stringContaining(`gave up writing the outcome of job ${bad}`),
    ])
    expect(errors.at(-1)).toBeInstanceOf(ConveyorError)
    expect(written.sort()).toEqual([good, bad].sort())
  })

  it('gives up on an unreachable database after its bound, reports it, and goes idle', async () => {
    // A port nothing listens on: every connection is refused (ECONNREFUSED), a transient error.
    const { store } = await ownStore('postgres://postgres@127.0.0.1:1/test')
    const errors: unknown[] = []
    const completer = new Completer({
      store,
      clock: new ManualClock(T0),
      onError: (e) => errors.push(e),
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    })
    let written = 0
    completer.add({ id: '1', outcome: 'succeeded' }, () => written++)
    await completer.idle()
    expect(errors.slice(0, 3).every((e) => e instanceof StorageUnavailableError)).toBe(true)
    expect(errors).toHaveLength(4)
    expect(String((errors[3] as Error).message)).toContain(
      'gave up writing the outcome of job 1 after 3 attempts',
    )
    expect(written).toBe(1)
    expect(completer.pendingCount).toBe(0)
  })
})
