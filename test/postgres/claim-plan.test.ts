/**
 * The claim pool's session settings keep every claim variant on its ordered claim index, though the
 * session's one generic plan was made on an empty, never-analyzed table (a server with autovacuum
 * off, or a table that grew right after start), and after the table was analyzed with a backlog.
 * Without `enable_seqscan=off` a first plan made on a nearly empty table used to scan the whole table
 * on every claim once it had grown; since the keyset claim put the cursor's start in the index
 * condition the planner no longer did in the case this file once showed, so that case (a plan that
 * depended on the planner's row estimates, flaky under load) is gone and the settings stay as a guard.
 * The `time` variants read `jobs_claim_time_idx`, which a schema has once a store got ready for
 * `time` workers (migration 011 no longer creates it for every schema).
 */
import pg from 'pg'
import { beforeAll, expect, it } from 'vitest'
import { claimSql } from '../../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

const VARIANTS = ['priority:one', 'time:one', 'priority:many', 'time:many'] as const
type Variant = (typeof VARIANTS)[number]

describePostgres('claim plan on the claim pool sessions', () => {
  const db = useStore()
  beforeAll(() => db.store.ready({ strategies: ['time'] }))

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
      // $10 maxWeight (null: any); the cursor's start ($11 run_at per queue, $12 priority per queue for
      // `priority`): from the front.
      const cursor = (v: Variant) => {
        const n = v.endsWith('many') ? 2 : 1
        const runAt = `'{${Array(n).fill('-Infinity').join(',')}}'`
        return v.startsWith('priority') ? `, ${runAt}, '{${Array(n).fill(-32768).join(',')}}'` : `, ${runAt}`
      }
      const exec = (v: Variant, dueBy: number) =>
        `EXECUTE ${v.replace(':', '_')}('{${v.endsWith('many') ? 'default,other' : 'default'}}', '{noop}', ${dueBy}, null, 10, ${now}, 'w', 1, false, null${cursor(v)})`
      for (const v of VARIANTS) {
        const cursorTypes = v.startsWith('priority') ? ', float8[], smallint[]' : ', float8[]'
        await client.query(
          `PREPARE ${v.replace(':', '_')}(text[], text[], float8, bigint, int, float8, text, int, boolean, int${cursorTypes}) AS ${sql[v]}`,
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

  // Every seventh job is in one of 50 groups, some fifo and some release (the pre-check's two cases).
  const insertWaiting = (rows: number) => async (client: pg.Client) => {
    await client.query(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, priority,
         group_key, group_mode)
       SELECT 'noop', CASE WHEN g % 10 = 0 THEN 'other' ELSE 'default' END, 'available', '{}',
         now() - g * interval '1 ms', now(), 3, g % 3,
         CASE WHEN g % 7 = 0 THEN 'group-' || (g % 50) END, CASE WHEN g % 2 = 0 THEN 'release' ELSE 'fifo' END
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
      // The keyset claim's start is in the claim index's condition: the scan begins at the cursor.
      const condition = plan[v].find((line) => line.includes('Index Cond:') && line.includes('(queue = '))
      expect(condition, v).toMatch(
        v.startsWith('priority')
          ? /ROW\(priority, run_at\) >= ROW\((\(\$12\)\[1\]|q\.start_priority), to_timestamp/
          : /\(run_at >= to_timestamp\(\(?(\(\$11\)\[1\]|q\.start_run_at)/,
      )
      // The group pre-check (a job of a group) probes the small index of running group jobs by the
      // job's group, and for a fifo job the group index below the job's id; never the claim index or
      // the primary key.
      const running = plan[v].findIndex((line) =>
        line.includes('Index Scan using jobs_group_running_idx on jobs g'),
      )
      expect(running, v).toBeGreaterThan(-1)
      expect(plan[v][running + 1], v).toMatch(/Index Cond: \(group_key = j_1\.group_key\)/)
      const earlier = plan[v].findIndex((line) => /Index Scan using jobs_group_idx on jobs g/.test(line))
      expect(earlier, v).toBeGreaterThan(-1)
      expect(plan[v][earlier + 1], v).toMatch(
        /Index Cond: \(\(ROW\(group_key, id\) < ROW\(j_1\.group_key, j_1\.id\)\) AND \(group_key = j_1\.group_key\)\)/,
      )
    }
  }

  it('scans the claim index, though the plan was made on an empty table that was never analyzed', async () => {
    expectClaimIndexScans(await plans(CLAIM_SESSION_SETTINGS, insertWaiting(20_000)))
  })

  // A held xmin horizon: the statistics show a few live waiting jobs (claimed and finished ones left
  // the table) among many dead versions the claim index cannot drop. A plan that reads another index
  // of waiting jobs and sorts them cannot start at the cursor, so it walked every dead entry.
  it('scans the claim index from the cursor when the statistics show a few waiting jobs', async () => {
    const grow = insertWaiting(20)
    expectClaimIndexScans(
      await plans(
        CLAIM_SESSION_SETTINGS,
        async () => {},
        async (client) => {
          const holder = new pg.Client({ connectionString: databaseUrl() })
          await holder.connect()
          try {
            await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
            await holder.query('SELECT 1')
            // 20,000 jobs waited, were claimed and finished under the held snapshot.
            for (let round = 0; round < 4; round++) {
              await insertWaiting(5_000)(client)
              await client.query(`UPDATE ${db.table('jobs')} SET state = 'running' WHERE state = 'available'`)
              await client.query(`DELETE FROM ${db.table('jobs')} WHERE state = 'running'`)
            }
            await grow(client)
            await client.query(`VACUUM ANALYZE ${db.table('jobs')}`)
          } finally {
            await holder.end()
          }
        },
      ),
    )
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
