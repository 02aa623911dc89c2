/**
 * Schedules across processes: three processes on one fast clock (ten clock seconds per real
 * second, shared through the same epoch) register the same `@every 1s` and cron `*\/2 * * * * *`
 * schedules at boot and run their jobs, over many ticks; one process is restarted gracefully and
 * one is killed with SIGKILL and replaced on the way. Each tick must be enqueued exactly once, no
 * tick skipped (the `runOnce` policy only collapses ticks missed while nothing ran), each tick's
 * run committed once, and each run must see an earlier successful tick as its previous success.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { databaseUrl, describePostgres, useStore } from '../postgres/fixture.js'
import { exited, startProcess, stopAll } from '../postgres/processes/spawn.js'
import { byScale, writeScenarioResult } from '../support/reliability-results.js'
import { waitFor } from '../support/wait.js'

const PROCESS = fileURLToPath(new URL('./processes/schedules-process.ts', import.meta.url))
const SPEED = 10
const SCHEDULES = { 'every-second': 1000, 'cron-2s': 2000 } as const

describePostgres('schedules shared by three processes on a fast clock', () => {
  const db = useStore()
  let children: ChildProcess[] = []

  afterEach(async () => {
    await stopAll(children)
    children = []
  })

  it('enqueues every tick exactly once, skips none, across a graceful restart and a SIGKILL', {
    timeout: byScale({ short: 120_000, long: 900_000 }),
  }, async () => {
    const started = performance.now()
    const target = byScale({ short: 100, long: 1000 })
    await db.pool.query(
      `CREATE TABLE "${db.schema}".tick_runs (id serial PRIMARY KEY, schedule text NOT NULL, tick float8 NOT NULL, previous float8, worker text NOT NULL)`,
    )
    const epoch = Date.now()
    const start = async (name: string) => {
      const child = await startProcess(PROCESS, [
        databaseUrl(),
        db.schema,
        name,
        String(epoch),
        String(SPEED),
      ])
      children.push(child)
      return child
    }
    const tickJobs = async (schedule: string): Promise<number> =>
      (
        await db.pool.query(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE schedule_name = $1`, [
          schedule,
        ])
      ).rows[0].n
    const reach = (n: number, message: string) =>
      waitFor(async () => (await tickJobs('every-second')) >= n, {
        timeoutMs: (n * 1000) / SPEED + 60_000,
        message,
      })

    const clockNow = () => new Date(Date.UTC(2030, 0, 1) + (Date.now() - epoch) * SPEED).toISOString()
    const [a, b] = await Promise.all(['a', 'b', 'c'].map(start))
    const events: Record<string, string> = { started: clockNow() }
    await reach(Math.floor(target / 3), 'a third of the ticks')
    // A deploy: one process stops gracefully and a new one registers the same schedules at boot.
    events.sigtermA = clockNow()
    a!.kill('SIGTERM')
    await exited(a!)
    await start('a2')
    events.a2Ready = clockNow()
    await reach(Math.floor((2 * target) / 3), 'two thirds of the ticks')
    // A crash: one process dies without a word; its running tick jobs are rescued.
    events.sigkillB = clockNow()
    b!.kill('SIGKILL')
    await exited(b!)
    await start('b2')
    events.b2Ready = clockNow()
    await reach(target, `${target} ticks`)
    // Let the workers catch up with the ticks already enqueued (new ones keep coming) before stopping.
    await waitFor(
      async () =>
        (
          await db.pool.query(
            `SELECT count(*)::int AS n FROM ${db.everyJob} WHERE schedule_name IS NOT NULL AND state <> 'succeeded'`,
          )
        ).rows[0].n <= 2,
      { timeoutMs: 60_000, message: 'the workers to catch up with the ticks' },
    )
    await stopAll(children)
    children = []

    const figures: Record<
      string,
      { ticks: number; skipped: number; duplicates: number; runsDoubled: number; runs: number }
    > = {}
    for (const [schedule, interval] of Object.entries(SCHEDULES)) {
      const ticks = (
        await db.pool.query(
          `SELECT (extract(epoch FROM schedule_tick) * 1000)::float8 AS tick, count(*)::int AS n, bool_and(state = 'succeeded') AS done
           FROM ${db.everyJob} WHERE schedule_name = $1 GROUP BY schedule_tick ORDER BY schedule_tick`,
          [schedule],
        )
      ).rows as { tick: number; n: number; done: boolean }[]
      const duplicates = ticks.filter((t) => t.n !== 1).length
      let skipped = 0
      for (let i = 1; i < ticks.length; i++) skipped += (ticks[i]!.tick - ticks[i - 1]!.tick) / interval - 1
      const runs = (
        await db.pool.query(
          `SELECT tick, count(*)::int AS n, min(previous) AS previous FROM "${db.schema}".tick_runs
           WHERE schedule = $1 GROUP BY tick ORDER BY tick`,
          [schedule],
        )
      ).rows as { tick: number; n: number; previous: number | null }[]
      const runsDoubled = runs.filter((r) => r.n !== 1).length
      figures[schedule] = { ticks: ticks.length, skipped, duplicates, runsDoubled, runs: runs.length }
      const gaps = ticks
        .slice(1)
        .map((t, i) => ({ from: ticks[i]!.tick, gap: t.tick - ticks[i]!.tick }))
        .filter((g) => g.gap !== interval)
      if (gaps.length > 0) console.log(schedule, 'gaps', gaps, 'first', ticks[0]?.tick)

      expect(ticks.length).toBeGreaterThan(0)
      expect(duplicates).toBe(0)
      expect(skipped).toBe(0)
      // Cron ticks fall on whole even seconds; `@every` ticks keep the anchor of the first registration.
      if (schedule === 'cron-2s') expect(ticks.every((t) => t.tick % interval === 0)).toBe(true)
      expect(runsDoubled).toBe(0)
      // Every tick job that succeeded has its one committed run, and runs only exist for ticks.
      const succeededTicks = ticks.filter((t) => t.done).map((t) => t.tick)
      expect(runs.map((r) => r.tick)).toEqual(succeededTicks)
      // All but the last couple of ticks (still running when the processes stopped) ran.
      expect(succeededTicks.length).toBeGreaterThanOrEqual(ticks.length - 3)
      // The previous success a run sees is an earlier tick that did run. Runs of the first ticks can
      // overlap (several processes, catching up), so only runs starting before any success see none.
      const ran = new Set(runs.map((r) => r.tick))
      for (const r of runs.filter((x) => x.previous !== null)) {
        expect(r.previous!).toBeLessThan(r.tick)
        expect(ran.has(r.previous!)).toBe(true)
      }
      const withoutPrevious = runs.filter((r) => r.previous === null).length
      expect(withoutPrevious).toBeLessThanOrEqual(10)
    }
    const every = figures['every-second']!
    const cron = figures['cron-2s']!
    writeScenarioResult({
      scenario: 'schedules',
      rounds: every.ticks + cron.ticks,
      faultsInjected: 2,
      jobs: every.ticks + cron.ticks,
      lost: every.skipped + cron.skipped,
      doubled: every.duplicates + cron.duplicates + every.runsDoubled + cron.runsDoubled,
      durationMs: Math.round(performance.now() - started),
      notes: `Three processes on a shared fast clock (x${SPEED}) fire '@every 1s' and cron '*/2 * * * * *'; one process restarted with SIGTERM, one killed with SIGKILL and replaced. rounds = ticks fired; lost = ticks skipped; doubled = ticks enqueued or run (committed) more than once.`,
      schedules: figures,
      clockSpeed: SPEED,
      clockTimeOfEvents: events,
    })
  })
})
