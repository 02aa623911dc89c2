import pg from 'pg'
import { expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import type { ScheduleRecord } from '../../src/core/ports/store.js'
import { databaseUrl, describePostgres, newJob, T0, useStore } from './fixture.js'

const template = {
  queue: 'default',
  priority: 0,
  maxAttempts: 3,
  timeoutMs: 0,
  weight: 1,
  uniqueKey: null,
  groupKey: null,
  dependsOn: [],
  metadata: { from: 'schedule' },
  tags: ['cron'],
  workflowState: null,
  backoff: null,
  traceContext: null,
}

function schedule(fields: Partial<ScheduleRecord> = {}) {
  return {
    name: 'nightly',
    expression: '0 4 * * *',
    timezone: 'Europe/Paris',
    kind: 'test',
    payload: { full: true },
    jobTemplate: template,
    nextRunAt: T0 + 1000,
    missedPolicy: 'runOnce' as const,
    ...fields,
  }
}

const tickJob = (tick: number) =>
  newJob({ scheduleName: 'nightly', scheduleTick: tick, runAt: tick, payload: { full: true } })

// The schedule rules are in the store-level suite (test/store/cases/schedules.ts); this is the race between processes.
describePostgres('PostgresStore schedules', () => {
  const db = useStore()

  it('fires each tick exactly once when several processes race', async () => {
    await db.store.upsertSchedule({ schedule: schedule(), now: T0 })
    const pools = Array.from({ length: 5 }, () => new pg.Pool({ connectionString: databaseUrl(), max: 2 }))
    const stores = pools.map((pool) => new PostgresStore({ pool, schema: db.schema }))
    try {
      for (let tick = 1; tick <= 5; tick++) {
        const at = T0 + 1000 * tick
        const fire = {
          name: 'nightly',
          expectedNextRunAt: at,
          nextRunAt: at + 1000,
          job: tickJob(at),
          now: at,
        }
        const results = await Promise.all(stores.map((s) => s.fireScheduleTick(fire)))
        expect(results.filter((r) => r !== null)).toHaveLength(1)
      }
      const jobs = await db.store.listJobs({ filter: { scheduleName: 'nightly' }, limit: 100 })
      expect(jobs.map((j) => j.scheduleTick).sort()).toEqual([1, 2, 3, 4, 5].map((t) => T0 + 1000 * t))
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
  })
})
