import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'
import { exited, startProcess, stopAll } from './processes/spawn.js'

const PROCESS = fileURLToPath(new URL('./processes/schedule-process.ts', import.meta.url))

describePostgres('a schedule shared by three processes', () => {
  const db = useStore()
  let children: ChildProcess[] = []
  const start = async (name: string) => {
    const child = await startProcess(PROCESS, [databaseUrl(), db.schema, name])
    children.push(child)
    return child
  }

  afterEach(async () => {
    await stopAll(children)
    children = []
  })

  it('enqueues each tick exactly once, survives a restart without losing or doubling a tick, and passes the previous success', {
    timeout: 90_000,
  }, async () => {
    await db.pool.query(
      `CREATE TABLE "${db.schema}".ticks (id serial PRIMARY KEY, tick float8 NOT NULL, previous float8, worker text NOT NULL)`,
    )
    const ticks = async () =>
      (await db.pool.query(`SELECT tick, previous FROM "${db.schema}".ticks ORDER BY tick`)).rows as {
        tick: number
        previous: number | null
      }[]
    const [a] = await Promise.all(['a', 'b', 'c'].map(start))
    await waitFor(async () => (await ticks()).length >= 3, { timeoutMs: 30_000 })
    // Restart one process: it registers the same schedule again at boot.
    a!.kill('SIGTERM')
    await exited(a!)
    await start('a2')
    const before = (await ticks()).length
    await waitFor(async () => (await ticks()).length >= before + 3, { timeoutMs: 30_000 })
    await stopAll(children)
    children = []

    const rows = await ticks()
    const jobTicks = await db.pool.query(
      `SELECT schedule_tick, count(*)::int AS n FROM ${db.everyJob} WHERE schedule_name = 'heartbeat-report' GROUP BY schedule_tick`,
    )
    // Exactly once: one job per tick, one run per tick.
    expect(jobTicks.rows.filter((r) => r.n !== 1)).toEqual([])
    expect(new Set(rows.map((r) => r.tick)).size).toBe(rows.length)
    // No tick lost: consecutive ticks are 1 s apart, across the restart.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.tick - rows[i - 1]!.tick).toBe(1000)
    // Each run saw the previous successful tick (runs can overlap, so it is at most one tick back).
    for (const r of rows.slice(1)) {
      expect(r.previous).not.toBeNull()
      expect(r.previous!).toBeLessThan(r.tick)
    }
  })
})
