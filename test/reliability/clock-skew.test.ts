/**
 * Clock skew: three worker processes share one database, one on the true time, one a minute ahead
 * and one a minute behind (Debian's `faketime` skews their host clocks). Jobs lasting longer than
 * the stale limit (2 s) run while all three heartbeat and rescue; an `@every 1s` schedule ticks
 * meanwhile. Then the one on the true time stops, the one ahead is killed mid-job, and only the one
 * behind is left to rescue. Every process uses the database's clock, so: no job runs twice, no tick
 * is lost, doubled or run before it is due, and the killed process's jobs come back once its
 * heartbeat is stale on the database's clock, neither before nor a minute late.
 *
 * Skipped, saying so, when libfaketime is not installed (`apt-get install faketime`; `.ci/run` does).
 */

import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { databaseUrl, describePostgres, newJob, useStore } from '../postgres/fixture.js'
import { startProcess, stopAll } from '../postgres/processes/spawn.js'
import { writeScenarioResult } from '../support/reliability-results.js'
import { waitFor } from '../support/wait.js'

const WORKER = fileURLToPath(new URL('./processes/skew-worker.ts', import.meta.url))
/** The rescue settings of processes/skew-worker.ts. */
const RESCUE = { heartbeatIntervalMs: 200, rescueAfterMs: 2000, rescueIntervalMs: 200 }
const SKEW = '60s'

/** Debian's libfaketime (package `faketime`), preloaded into a child to skew its clock. */
const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
].find((path) => existsSync(path))
if (!LIBFAKETIME)
  console.warn('clock-skew scenario skipped: faketime is missing (apt-get install -y faketime)')

describePostgres('clock skew: processes a minute ahead and behind share one database', () => {
  const db = useStore()
  let children: ChildProcess[] = []

  afterEach(async () => {
    await stopAll(children)
    children = []
  })

  const rows = async <R>(sql: string, values: unknown[] = []): Promise<R[]> =>
    (await db.pool.query(sql, values)).rows as R[]

  it.skipIf(!LIBFAKETIME)(
    'runs no job twice, fires every tick once and on time, and rescues on the database clock',
    { timeout: 120_000 },
    async () => {
      const started = performance.now()
      const s = `"${db.schema}"`
      const jobs = db.everyJob
      await db.pool.query(
        `CREATE TABLE IF NOT EXISTS ${s}.runs (job_id bigint NOT NULL, worker text NOT NULL, attempt int NOT NULL, tick float8, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      )
      await db.pool.query(`TRUNCATE ${s}.runs`)
      const spawnWorker = async (name: string, skew: string | null) => {
        const child = await startProcess(
          WORKER,
          [databaseUrl(), db.schema, name],
          skew === null ? {} : { LD_PRELOAD: LIBFAKETIME!, FAKETIME: skew },
        )
        children.push(child)
        return child
      }
      const [onTime, ahead] = await Promise.all([
        spawnWorker('on-time', null),
        spawnWorker('ahead', `+${SKEW}`),
        spawnWorker('behind', `-${SKEW}`),
      ])

      // Phase 1: twelve 3-second jobs (longer than the 2 s stale limit) over six slots.
      const batch = 12
      const [{ now: dbNow }] = (await rows<{ now: number }>(
        `SELECT round(date_part('epoch', now()) * 1000)::float8 AS now`,
      )) as [{ now: number }]
      await db.store.insertJobs({
        jobs: Array.from({ length: batch }, () =>
          newJob({ kind: 'skew-job', payload: { ms: 3000 }, runAt: dbNow }),
        ),
        now: dbNow,
      })
      await waitFor(
        async () =>
          (
            await rows<{ n: number }>(
              `SELECT count(*)::int AS n FROM ${jobs} WHERE kind = 'skew-job' AND state = 'succeeded'`,
            )
          )[0]!.n === batch,
        { timeoutMs: 60_000, message: 'the first batch to succeed' },
      )
      const runsPerJob = await rows<{ job_id: string; n: number }>(
        `SELECT job_id::text, count(*)::int AS n FROM ${s}.runs WHERE tick IS NULL GROUP BY job_id`,
      )
      const doubledJobs = runsPerJob.filter((r) => r.n > 1).length
      const workersUsed = (
        await rows<{ worker: string }>(`SELECT DISTINCT worker FROM ${s}.runs WHERE tick IS NULL`)
      ).map((r) => r.worker)

      expect({ doubledJobs, workersUsed: workersUsed.sort() }).toEqual({
        doubledJobs: 0,
        workersUsed: ['ahead', 'behind', 'on-time'],
      })

      // Phase 2: the on-time process stops; the one ahead is killed while running; the one behind rescues.
      await stopAll([onTime])
      const holdIds = (
        await db.store.insertJobs({
          jobs: Array.from({ length: 4 }, () =>
            newJob({ kind: 'skew-job', payload: { ms: 5000 }, runAt: dbNow }),
          ),
          now: dbNow,
        })
      ).map((o) => o.job.id)
      await waitFor(
        async () =>
          (
            await rows(
              `SELECT 1 FROM ${jobs} WHERE id = ANY($1::bigint[]) AND state = 'running' AND attempted_by LIKE 'ahead-%'`,
              [holdIds],
            )
          ).length > 0,
        { timeoutMs: 20_000, message: 'the process ahead to run a job' },
      )
      ahead.kill('SIGKILL')
      const [{ killed }] = (await rows<{ killed: number }>(
        `SELECT round(date_part('epoch', clock_timestamp()) * 1000)::float8 AS killed`,
      )) as [{ killed: number }]
      const [{ beat }] = (await rows<{ beat: number }>(
        `SELECT round(date_part('epoch', last_heartbeat_at) * 1000)::float8 AS beat FROM ${s}.processes WHERE id LIKE 'ahead-%'`,
      )) as [{ beat: number }]
      // Rescued within 20 s: the process behind, judging by its own clock, would wait a minute more.
      const rescued = await waitFor(
        async () => {
          const found = await rows<{ at: number }>(
            `SELECT (e->>'at')::float8 AS at FROM ${jobs} j, jsonb_array_elements(j.errors) e
             WHERE j.id = ANY($1::bigint[]) AND e->>'name' = 'WorkerDied'`,
            [holdIds],
          )
          return found.length > 0 ? found : null
        },
        { timeoutMs: 20_000, message: "the killed process's job to be rescued" },
      )
      const rescueAfterKillMs = Math.round(Math.min(...rescued.map((r) => r.at)) - killed)
      const staleForMs = Math.round(Math.min(...rescued.map((r) => r.at)) - beat)

      // Ticks: every tick from the first to the last ran once, and none ran before it was due.
      const ticks = await rows<{ tick: number; n: number; early: number }>(
        `SELECT tick, count(*)::int AS n, count(*) FILTER (WHERE round(date_part('epoch', at) * 1000) < tick)::int AS early
         FROM ${s}.runs WHERE tick IS NOT NULL GROUP BY tick ORDER BY tick`,
      )
      const doubledTicks = ticks.filter((t) => t.n > 1).length
      const earlyTicks = ticks.reduce((sum, t) => sum + t.early, 0)
      const span = ticks.length > 0 ? (ticks.at(-1)!.tick - ticks[0]!.tick) / 1000 + 1 : 0
      const lostTicks = span - ticks.length

      const path = writeScenarioResult({
        scenario: 'clock-skew',
        rounds: 1,
        faultsInjected: 3,
        jobs: batch + holdIds.length,
        lost: 0,
        doubled: doubledJobs,
        durationMs: Math.round(performance.now() - started),
        notes: `processes at +${SKEW}, 0 and -${SKEW} under faketime; rescueAfterMs ${RESCUE.rescueAfterMs}`,
        workersUsed,
        ticks: ticks.length,
        ticksLost: lostTicks,
        ticksDoubled: doubledTicks,
        ticksEarly: earlyTicks,
        rescueAfterKillMs,
        heartbeatAgeAtRescueMs: staleForMs,
      })
      console.log(`clock skew: figures written to ${path}`)

      expect(ticks.length).toBeGreaterThan(0)
      expect({ lostTicks, doubledTicks, earlyTicks }).toEqual({
        lostTicks: 0,
        doubledTicks: 0,
        earlyTicks: 0,
      })
      // Not before the heartbeat was stale on the database's clock.
      expect(staleForMs).toBeGreaterThanOrEqual(RESCUE.rescueAfterMs)
    },
  )
})
