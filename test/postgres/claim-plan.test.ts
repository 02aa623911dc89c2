/**
 * The claim pool's session settings keep every claim variant on its ordered claim index, though the
 * session's one generic plan was made on an empty, never-analyzed table (a server with autovacuum
 * off, or a table that grew right after start), and after the table was analyzed with a backlog.
 * Without `enable_seqscan=off` a first plan made on a nearly empty table scans the whole table on
 * every claim once it has grown.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { claimSql } from '../../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

const VARIANTS = ['priority:one', 'time:one', 'priority:many', 'time:many'] as const
type Variant = (typeof VARIANTS)[number]

describePostgres('claim plan on the claim pool sessions', () => {
  const db = useStore()

  /** Plans of every variant: each prepared and run once on the empty table, explained after `grow`. */
  async function plans(
    settings: string,
    grow: (client: pg.Client) => Promise<void>,
    before?: (client: pg.Client) => Promise<void>,
  ): Promise<Record<Variant, string[]>> {
    const client = new pg.Client({ connectionString: databaseUrl(), options: settings })
    await client.connect()
    try {
      await before?.(client)
      const sql = claimSql(sqlNames(db.schema))
      const now = Date.now()
      const exec = (v: Variant, dueBy: number) =>
        `EXECUTE ${v.replace(':', '_')}('{${v.endsWith('many') ? 'default,other' : 'default'}}', '{noop}', ${dueBy}, null, 10, ${now}, 'w', 1, false)`
      for (const v of VARIANTS) {
        await client.query(
          `PREPARE ${v.replace(':', '_')}(text[], text[], float8, bigint, int, float8, text, int, boolean) AS ${sql[v]}`,
        )
        // First run on the empty table: the session's generic plan is made now.
        await client.query(exec(v, now))
      }
      await grow(client)
      const out = {} as Record<Variant, string[]>
      for (const v of VARIANTS) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${exec(v, now + 60_000)}`)
        out[v] = rows.map((r) => r['QUERY PLAN'])
      }
      return out
    } finally {
      await client.end()
    }
  }

  const insertWaiting = (rows: number) => async (client: pg.Client) => {
    await client.query(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, priority)
       SELECT 'noop', CASE WHEN g % 10 = 0 THEN 'other' ELSE 'default' END, 'available', '{}',
         now() - g * interval '1 ms', now(), 3, g % 3
       FROM generate_series(1, ${rows}) g`,
    )
  }

  function expectClaimIndexScans(plan: Record<Variant, string[]>): void {
    for (const v of VARIANTS) {
      const index = v.startsWith('priority') ? 'jobs_claim_priority_idx' : 'jobs_claim_time_idx'
      expect(
        plan[v].filter((line) => line.includes('Seq Scan on jobs')),
        v,
      ).toEqual([])
      expect(
        plan[v].some((line) => line.includes(`Index Scan using ${index}`)),
        v,
      ).toBe(true)
    }
  }

  it('scans the claim index, though the plan was made on an empty table that was never analyzed', async () => {
    expectClaimIndexScans(await plans(CLAIM_SESSION_SETTINGS, insertWaiting(20_000)))
  })

  it('would scan the whole table without the guard (the case the settings exist for)', async () => {
    // The plan is made on a table analyzed while it held a handful of jobs, which then grows. (Made on
    // the empty never-analyzed table instead, it no longer scans the table since migration 006 made
    // rows wider: the planner's row estimate for a never-analyzed table shrank with the width.)
    const plan = await plans(
      '-c jit=off -c plan_cache_mode=force_generic_plan',
      insertWaiting(20_000),
      async (client) => {
        await insertWaiting(5)(client)
        await client.query(`ANALYZE ${db.table('jobs')}`)
      },
    )
    expect(plan['priority:one'].some((line) => line.includes('Seq Scan on jobs'))).toBe(true)
  })

  // Last: the statistics ANALYZE leaves outlive the TRUNCATE between tests.
  it('scans the claim index in order with a large analyzed backlog', async () => {
    const grow = insertWaiting(60_000)
    expectClaimIndexScans(
      await plans(CLAIM_SESSION_SETTINGS, async (client) => {
        await grow(client)
        await client.query(`ANALYZE ${db.table('jobs')}`)
      }),
    )
  })
})
