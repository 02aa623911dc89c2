/**
 * The claim's group pre-check on a `release` group with 10,000 waiting jobs: whether the group is
 * held is one probe of the small index of running jobs (`jobs_group_running_idx`, migration 008),
 * and the walk over the group's earlier waiting jobs (`jobs_group_idx`) is only a `fifo` job's. The
 * claim runs under EXPLAIN ANALYZE in a transaction that is rolled back; the test reads the plan's
 * shape and its row counts (never timings): a probe that walked the group's waiting list shows up
 * as thousands of rows removed by its filter.
 */
import pg from 'pg'
import { beforeAll, expect, it } from 'vitest'
import { claimSql } from '../../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

const VARIANTS = ['priority:one', 'time:one', 'priority:many', 'time:many'] as const
type Variant = (typeof VARIANTS)[number]

describePostgres('claim plan: the group pre-check of a release group with a large backlog', () => {
  const db = useStore()
  // The `time` variants read the time strategy's index, built once a store gets ready for `time` workers.
  beforeAll(() => db.store.ready({ strategies: ['time'] }))

  /** The EXPLAIN ANALYZE lines of one claim of capacity 1 per variant (each rolled back). */
  async function plans(analyze: boolean): Promise<Record<Variant, string[]>> {
    const client = new pg.Client({ connectionString: databaseUrl(), options: CLAIM_SESSION_SETTINGS })
    await client.connect()
    try {
      // One release group of 10,000 due jobs; the job first in claim order has the largest id, so
      // a walk over the group's waiting jobs with a smaller id would meet all the others.
      await client.query(
        `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, group_key, group_mode)
         SELECT 'noop', 'default', 'available', '{}', now() - g * interval '1 ms', now(), 3, 'big', 'release'
         FROM generate_series(1, 10000) g`,
      )
      if (analyze) await client.query(`ANALYZE ${db.table('jobs')}`)
      const sql = claimSql(sqlNames(db.schema))
      const now = Date.now()
      const out = {} as Record<Variant, string[]>
      for (const v of VARIANTS) {
        const many = v.endsWith('many')
        const n = many ? 2 : 1
        const runAt = `'{${Array(n).fill('-Infinity').join(',')}}'`
        const cursor = v.startsWith('priority')
          ? `, ${runAt}, '{${Array(n).fill(-32768).join(',')}}'`
          : `, ${runAt}`
        const cursorTypes = v.startsWith('priority') ? ', float8[], smallint[]' : ', float8[]'
        const name = v.replace(':', '_')
        await client.query(
          `PREPARE ${name}(text[], text[], float8, bigint, int, float8, text, int, boolean, int${cursorTypes}) AS ${sql[v]}`,
        )
        await client.query('BEGIN')
        try {
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE ${name}('{${many ? 'default,other' : 'default'}}', '{noop}', ${now + 60_000}, null, 1, ${now}, 'w', 1, false, null${cursor})`,
          )
          out[v] = rows.map((r) => r['QUERY PLAN'])
        } finally {
          await client.query('ROLLBACK')
        }
      }
      return out
    } finally {
      await client.end()
    }
  }

  function expectRunningProbe(plan: Record<Variant, string[]>): void {
    for (const v of VARIANTS) {
      const text = plan[v].join('\n')
      // The claim took the group's first job.
      expect(plan[v][0], text).toMatch(/^Update on jobs j \(actual rows=1 /)
      // Held or not: one probe of the running jobs' index by the job's group.
      const running = plan[v].findIndex((line) => line.includes('jobs_group_running_idx on jobs g'))
      expect(running, text).toBeGreaterThan(-1)
      expect(plan[v][running + 1], text).toMatch(/Index Cond: \(\(?group_key = j(_1)?\.group_key\)?/)
      // The walk over earlier waiting jobs is the fifo job's only (in the group index, bounded by the
      // job's id, never the primary key): never run for this release group.
      const walks = plan[v].filter(
        (l) => / on jobs g(_\d+)? /.test(l) && !l.includes('jobs_group_running_idx'),
      )
      expect(walks.length, text).toBeGreaterThan(0)
      for (const line of walks) {
        expect(line, text).toContain('Index Scan using jobs_group_idx')
        expect(line, text).toContain('never executed')
      }
      const removed = plan[v]
        .map((line) => /Rows Removed by Filter: (\d+)/.exec(line)?.[1])
        .filter((n) => n !== undefined)
        .map(Number)
      expect(Math.max(0, ...removed), text).toBeLessThan(100)
    }
  }

  it('probes the running jobs of the group, not its 10,000 waiting jobs (never analyzed)', async () => {
    expectRunningProbe(await plans(false))
  })

  it('probes the running jobs of the group, not its 10,000 waiting jobs (analyzed)', async () => {
    expectRunningProbe(await plans(true))
  })
})
