/**
 * The claim pool's session settings keep the claim on its indexes even when its one generic plan
 * was made on an empty, never-analyzed table (a server with autovacuum off, or a table that grew
 * right after start). Without `enable_seqscan=off` that plan scans the whole table on every claim.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { claimSql } from '../../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

describePostgres('claim plan on the claim pool sessions', () => {
  const db = useStore()

  async function planAfterGrowth(settings: string): Promise<string[]> {
    const client = new pg.Client({ connectionString: databaseUrl(), options: settings })
    await client.connect()
    try {
      const sql = claimSql(sqlNames(db.schema))['priority:one']
      await client.query(
        `PREPARE claim_t(text[], text[], float8, bigint, int, float8, text, int, boolean) AS ${sql}`,
      )
      const now = Date.now()
      // First run on the empty table: the session's generic plan is made now.
      await client.query(`EXECUTE claim_t('{default}', '{noop}', ${now}, null, 10, ${now}, 'w', 1, false)`)
      await client.query(
        `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts)
         SELECT 'noop', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, 20000)`,
      )
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE claim_t('{default}', '{noop}', ${now + 60_000}, null, 10, ${now}, 'w', 1, false)`,
      )
      return rows.map((r) => r['QUERY PLAN'])
    } finally {
      await client.end()
    }
  }

  it('uses index scans only, though the plan was made on an empty table that was never analyzed', async () => {
    const plan = await planAfterGrowth(CLAIM_SESSION_SETTINGS)
    expect(plan.some((line) => /Index Scan|Index Only Scan|Bitmap Index Scan/.test(line))).toBe(true)
    expect(plan.filter((line) => line.includes('Seq Scan on jobs'))).toEqual([])
  })

  it('would scan the whole table without the guard (the case the settings exist for)', async () => {
    const plan = await planAfterGrowth('-c jit=off -c plan_cache_mode=force_generic_plan')
    expect(plan.some((line) => line.includes('Seq Scan on jobs'))).toBe(true)
  })
})
