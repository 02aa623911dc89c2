import { expect, it } from 'vitest'
import { describeStore, useStore } from './fixture.js'

// The claim's rules are in the store-level suite (test/store/cases/claim.ts); this is its SQL plan.
describeStore('PostgresStore.claimJobs', () => {
  const db = useStore()

  it('uses the partial claim index (no scan of finished rows)', async () => {
    const plan = await db.pool.query(
      `EXPLAIN SELECT id FROM ${db.table('jobs')} WHERE state IN ('scheduled', 'available', 'retryable') AND NOT group_behind AND queue = 'default' ORDER BY priority, run_at, id LIMIT 10`,
    )
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/jobs_claim_priority_idx/)
  })
})
