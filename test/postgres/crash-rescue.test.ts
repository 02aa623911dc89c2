import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, newJob, useStore } from './fixture.js'
import { exited, startProcess, stopAll } from './processes/spawn.js'

const WORKER = fileURLToPath(new URL('./processes/crash-worker.ts', import.meta.url))

describePostgres('crash safety with real processes killed by SIGKILL', () => {
  const db = useStore()
  let children: ChildProcess[] = []
  const start = async (name: string) => {
    const child = await startProcess(WORKER, [databaseUrl(), db.schema, name])
    children.push(child)
    return child
  }
  const count = async (sql: string): Promise<number> => (await db.pool.query(sql)).rows[0].n
  /** The table where crash-worker.ts records each committed run of a `crash-work` job, empty. */
  const emptyRunsTable = async () => {
    await db.pool.query(
      `CREATE TABLE IF NOT EXISTS "${db.schema}".runs (id serial PRIMARY KEY, job_id bigint NOT NULL, worker text NOT NULL, attempt int NOT NULL)`,
    )
    await db.pool.query(`TRUNCATE "${db.schema}".runs`)
  }

  afterEach(async () => {
    await stopAll(children)
    children = []
  })

  it('loses no job and commits exactly one successful run per job across repeated SIGKILLs', {
    timeout: 120_000,
  }, async () => {
    await emptyRunsTable()
    const N = 200
    const now = Date.now()
    const jobs = Array.from({ length: N }, (_, i) =>
      newJob({ kind: 'crash-work', payload: { i, ms: 5 + (i % 7) * 5 }, runAt: now, maxAttempts: 20 }),
    )
    // The jobs go in once both workers are up: the first one alone may otherwise run them all while
    // the second starts (it did in CI under load), and no kill would find a job running.
    const live = await Promise.all(['w0', 'w1'].map(start))
    const names = ['w0', 'w1']
    await db.store.insertJobs({ jobs, now })
    let killed = 0
    for (let round = 0; round < 6; round++) {
      // Kill a worker while it holds running jobs, then start a replacement.
      const victim = live.shift()!
      const victimName = names.shift()!
      await waitFor(
        async () =>
          (await count(
            `SELECT count(*)::int AS n FROM ${db.everyJob} WHERE state = 'running' AND attempted_by LIKE '${victimName}-%'`,
          )) > 0 ||
          (await count(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE state <> 'succeeded'`)) === 0,
        { timeoutMs: 30_000 },
      )
      victim.kill('SIGKILL')
      await exited(victim)
      killed++
      live.push(await start(`w${round + 2}`))
      names.push(`w${round + 2}`)
    }
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE state = 'succeeded'`)) === N,
      { timeoutMs: 60_000, message: 'every job to succeed after the kills' },
    )
    expect(killed).toBe(6)
    // Exactly one committed run per job: transactional execution rolled back every killed attempt.
    const perJob = await db.pool.query(
      `SELECT job_id, count(*)::int AS n FROM "${db.schema}".runs GROUP BY job_id`,
    )
    expect(perJob.rowCount).toBe(N)
    expect(perJob.rows.filter((r) => r.n !== 1)).toEqual([])
    // Rescued attempts were counted and recorded with the WorkerDied error.
    const rescued = await count(
      `SELECT count(*)::int AS n FROM ${db.everyJob} WHERE errors @> '[{"name": "WorkerDied"}]'`,
    )
    expect(rescued).toBeGreaterThan(0)
  })

  it('rescues the running jobs of a worker killed and restarted at once under the same processId', {
    timeout: 120_000,
  }, async () => {
    await emptyRunsTable()
    const first = await start('same-host')
    const now = Date.now()
    // No timeout: only the silence of the killed run's id can free them.
    const jobs = Array.from({ length: 4 }, (_, i) =>
      newJob({ kind: 'crash-work', payload: { i, ms: 1500 }, runAt: now, maxAttempts: 20 }),
    )
    await db.store.insertJobs({ jobs, now })
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE state = 'running'`)) === 4,
      { timeoutMs: 30_000 },
    )
    first.kill('SIGKILL')
    await exited(first)
    await start('same-host')
    await waitFor(
      async () =>
        (await count(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE state = 'succeeded'`)) === 4,
      { timeoutMs: 60_000, message: "the killed run's jobs to be rescued and run by its replacement" },
    )
    const died = await count(
      `SELECT count(*)::int AS n FROM ${db.everyJob} WHERE errors @> '[{"name": "WorkerDied", "attempt": 1}]'`,
    )
    expect(died).toBe(4)
  })

  it('fails a job that keeps killing its worker after max attempts instead of looping', {
    timeout: 120_000,
  }, async () => {
    await emptyRunsTable()
    const now = Date.now()
    const [poison] = await db.store.insertJobs({
      jobs: [newJob({ kind: 'poison', payload: { i: 0 }, runAt: now, maxAttempts: 3 })],
      now,
    })
    const [ok] = await db.store.insertJobs({
      jobs: [newJob({ kind: 'crash-work', payload: { i: 1, ms: 1 }, runAt: now, maxAttempts: 20 })],
      now,
    })
    let generation = 0
    const keepOneAlive = async () => {
      for (;;) {
        const job = await db.store.getJob({ id: poison!.job.id })
        if (job?.state === 'failed') return
        const child = await start(`p${generation++}`)
        // Either the poison job kills this process, or this process rescues it as failed.
        await Promise.race([
          exited(child),
          waitFor(async () => (await db.store.getJob({ id: poison!.job.id }))?.state === 'failed', {
            timeoutMs: 30_000,
          }),
        ])
      }
    }
    await keepOneAlive()
    const job = await db.store.getJob({ id: poison!.job.id })
    expect(job?.state).toBe('failed')
    expect(job?.attempt).toBe(3)
    expect(job?.errors.map((e) => e.name)).toEqual(['WorkerDied', 'WorkerDied', 'WorkerDied'])
    expect(generation).toBeGreaterThanOrEqual(3)
    // Work queued behind it still runs.
    await start('finisher')
    await waitFor(async () => (await db.store.getJob({ id: ok!.job.id }))?.state === 'succeeded', {
      timeoutMs: 30_000,
    })
  })
})
