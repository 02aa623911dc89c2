import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, newJob, useStore } from './fixture.js'

const WORKER = fileURLToPath(new URL('./processes/worker-process.ts', import.meta.url))

/** Starts a worker process and resolves once it has started its queue. */
function startWorker(schema: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, databaseUrl(), schema, name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`worker ${name} exited with ${code} before it was ready`)))
  })
}

describePostgres('several worker processes on one queue', () => {
  const db = useStore()
  let children: ChildProcess[] = []

  afterEach(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGTERM')
          }),
      ),
    )
    children = []
  })

  it('runs every job exactly once, and one job per group at a time, in order', {
    timeout: 60_000,
  }, async () => {
    await db.pool.query(
      `CREATE TABLE IF NOT EXISTS "${db.schema}".runs (id serial PRIMARY KEY, job_id bigint NOT NULL, group_key text, worker text NOT NULL,
        started_at timestamptz NOT NULL, finished_at timestamptz)`,
    )
    children = await Promise.all([1, 2, 3].map((n) => startWorker(db.schema, `worker-${n}`)))
    const now = Date.now()
    const jobs = Array.from({ length: 300 }, (_, i) =>
      newJob({
        kind: 'process-work',
        payload: { i },
        runAt: now,
        groupKey: i % 3 === 0 ? `g${i % 5}` : null,
      }),
    )
    for (let i = 0; i < jobs.length; i += 50) await db.store.insertJobs({ jobs: jobs.slice(i, i + 50), now })
    await waitFor(
      async () =>
        (await db.pool.query(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE state = 'succeeded'`))
          .rows[0].n === 300,
      { timeoutMs: 45_000, message: 'all 300 jobs to succeed' },
    )
    const runs = await db.pool.query(
      `SELECT job_id::text, group_key, worker, started_at, finished_at FROM "${db.schema}".runs ORDER BY id`,
    )
    expect(runs.rowCount).toBe(300)
    expect(new Set(runs.rows.map((r) => r.job_id)).size).toBe(300)
    expect(new Set(runs.rows.map((r) => r.worker)).size).toBeGreaterThan(1)
    const overlaps = await db.pool.query(
      `SELECT a.job_id, b.job_id FROM "${db.schema}".runs a JOIN "${db.schema}".runs b
        ON a.group_key = b.group_key AND a.job_id < b.job_id AND b.started_at < a.finished_at`,
    )
    expect(overlaps.rows).toEqual([])
  })
})
