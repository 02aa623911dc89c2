/**
 * A process for the schedule scenario:
 * `node --import tsx schedules-process.ts <url> <schema> <name> <epochMs> <speed>`.
 *
 * Every process runs on the same fast clock: clock time = 2030-01-01T00:00:00Z plus `speed` times
 * the real time since `epochMs`, so three processes agree on the time while a minute of schedule
 * ticks passes in a few real seconds. At boot it registers the same two schedules (as every deploy
 * would): `@every 1s` and the cron `*\/2 * * * * *`; their runs record (schedule, tick, previous
 * success) in the job's own transaction, so a committed row exists exactly once per tick run.
 * Prints `ready` once started; SIGTERM shuts it down gracefully.
 */
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Clock } from '../../../src/core/ports/clock.js'
import { serveUntilSigterm } from '../../support/serve-until-sigterm.js'

const [url, schema, name, epochText, speedText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
]
const T0 = Date.UTC(2030, 0, 1)
const epoch = Number(epochText)
const speed = Number(speedText)
const fastClock: Clock = {
  now: () => T0 + Math.floor((Date.now() - epoch) * speed),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, Math.max(0, ms / speed))
    timer.unref()
    return { cancel: () => clearTimeout(timer) }
  },
}

const pool = new pg.Pool({ connectionString: url, max: 6 })
pool.on('error', () => {})
const queue = createPostgresQueue({
  pool,
  schema,
  processId: name,
  clock: fastClock,
  queues: { default: { concurrency: 2 } },
  // Ten clock minutes (a real minute at x10): on this shared 2-core machine a loaded database or
  // starved processes can stall every pass for several real seconds; those ticks are late, not missed.
  scheduler: { intervalMs: 200, missedToleranceMs: 600_000 },
  pollIntervalMs: 500,
})
const tick = defineJob<Record<string, never>>({ kind: 'sched-tick', maxAttempts: 20 })

queue.register(
  tick,
  async (_payload, ctx) => {
    await ctx.tx!.query(
      `INSERT INTO "${schema}".tick_runs (schedule, tick, previous, worker) VALUES ($1, $2, $3, $4)`,
      [ctx.schedule?.name, ctx.schedule?.tick, ctx.schedule?.previousSuccessAt, name],
    )
  },
  { transactional: true },
)

await queue.schedule('@every 1s', tick, {}, { name: 'every-second' })
await queue.schedule('*/2 * * * * *', tick, {}, { name: 'cron-2s' })

await serveUntilSigterm(queue, { graceMs: 2000, close: () => pool.end() })
