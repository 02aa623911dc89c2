/**
 * The completion statements find each job by a probe of the primary key, whatever the planner
 * estimates. Finished jobs leave `jobs` for `job_history`, so the table's statistics show a few live
 * rows while a held xmin horizon (an idle transaction, a long report) keeps every claimed and finished
 * job's dead versions in it and in the running index. A completion planned on those estimates walked
 * the running index (every dead entry since the horizon) to complete ten jobs.
 */
import pg from 'pg'
import { afterEach, expect, it } from 'vitest'
import { completeSql, completeSucceededSql } from '../../src/adapters/postgres/complete.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

interface PlanNode {
  readonly 'Node Type': string
  readonly 'Relation Name'?: string
  readonly 'Index Name'?: string
  readonly 'Shared Hit Blocks'?: number
  readonly 'Shared Read Blocks'?: number
  readonly Plans?: readonly PlanNode[]
}

/** Every node of a JSON plan. */
function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

describePostgres('completion plan under a held horizon', () => {
  const db = useStore()
  const clients: pg.Client[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end()
  })

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    clients.push(client)
    return client
  }

  /** Inserts `n` jobs running attempt 1 for worker `w`; returns their ids. */
  async function insertRunning(client: pg.Client, n: number): Promise<string[]> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, attempt,
         attempted_at, attempted_by)
       SELECT 'noop', 'default', 'running', '{}', now(), now(), 3, 1, now(), 'w' FROM generate_series(1, $1::int)
       RETURNING id`,
      [n],
    )
    return rows.map((r) => r.id)
  }

  /**
   * Ten running jobs, then 20,000 jobs claimed and finished while another session holds its snapshot,
   * then VACUUM: `jobs` shows ten live rows, its running index 20,000 dead entries it cannot drop.
   */
  async function heldHorizonWithTenRunning(): Promise<{ client: pg.Client; ids: string[] }> {
    const client = await connect()
    const ids = await insertRunning(client, 10)
    // They belong to groups and have dependants: the statements probe for both.
    await client.query(
      `UPDATE ${db.table('jobs')} SET group_key = 'g' || (id % 3) WHERE id = ANY($1::bigint[])`,
      [ids],
    )
    await client.query(
      `INSERT INTO ${db.table('job_dependants')} SELECT unnest($1::bigint[]), 900000000 + g FROM generate_series(1, 3) g`,
      [ids],
    )
    const holder = await connect()
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
    await holder.query('SELECT 1')
    for (let round = 0; round < 4; round++) {
      const churned = await insertRunning(client, 5_000)
      await client.query(`DELETE FROM ${db.table('jobs')} WHERE id = ANY($1::bigint[])`, [churned])
    }
    await client.query(`VACUUM ANALYZE ${db.table('jobs')}`)
    return { client, ids }
  }

  /**
   * 20,000 jobs of three groups claimed and finished while another session holds its snapshot (the
   * groups' earlier jobs, dead versions VACUUM cannot drop, in the group index too), then one running
   * job per group, 2,000 waiting jobs of no group, and 5,000 waiting jobs of the groups.
   */
  async function heldHorizonBehindGroups(): Promise<{ client: pg.Client; ids: string[] }> {
    const client = await connect()
    const holder = await connect()
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
    await holder.query('SELECT 1')
    const group = (ids: readonly string[]) =>
      client.query(
        `UPDATE ${db.table('jobs')} SET group_key = 'g' || (id % 3) WHERE id = ANY($1::bigint[])`,
        [ids],
      )
    for (let round = 0; round < 4; round++) {
      const churned = await insertRunning(client, 5_000)
      await group(churned)
      await client.query(`DELETE FROM ${db.table('jobs')} WHERE id = ANY($1::bigint[])`, [churned])
    }
    const ids = await insertRunning(client, 3)
    await group(ids)
    // Between the running jobs and their groups' next ones, 2,000 jobs of no group (a probe that
    // walked the primary key from a finished job would read them), then 5,000 of the three groups.
    await client.query(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, group_key)
       SELECT 'noop', 'default', 'available', '{}', now(), now(), 3, CASE WHEN i > 2000 THEN 'g' || (i % 3) END
       FROM generate_series(1, 7000) i`,
    )
    await client.query(`VACUUM ANALYZE ${db.table('jobs')}`)
    return { client, ids }
  }

  /** The nodes of the generic plan of `sql` prepared as `types`, run with `args`. */
  async function jobsScans(client: pg.Client, sql: string, types: string, args: string): Promise<PlanNode[]> {
    await client.query('SET plan_cache_mode = force_generic_plan')
    await client.query('BEGIN')
    try {
      await client.query(`PREPARE completion(${types}) AS ${sql}`)
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE completion(${args})`,
      )
      return nodes(rows[0]!['QUERY PLAN'][0].Plan)
    } finally {
      await client.query('ROLLBACK')
    }
  }

  /** The plan nodes of the success completion of the running jobs `ids`. */
  function successScans(client: pg.Client, ids: readonly string[]): Promise<PlanNode[]> {
    const list = (values: readonly unknown[]) => `'{${values.join(',')}}'`
    return jobsScans(
      client,
      completeSucceededSql(sqlNames(db.schema)),
      'bigint[], int[], boolean[], jsonb[], float8, float8[], text',
      `${list(ids)}, ${list(ids.map(() => 1))}, ${list(ids.map(() => 'f'))}, ${list(ids.map(() => 'NULL'))}, NULL, ${list(ids.map(() => 0))}, '${db.schema}_jobs'`,
    )
  }

  /**
   * `jobs` is read by primary-key probes and tuple-id fetches only (and, for the cascade of a failure,
   * probes of the dependants' index by the failed job's id; for the next job of a finished job's
   * group, probes of the group index by group key): no other index, no full scan.
   */
  function expectProbesOnly(plan: readonly PlanNode[]): void {
    const indexes = plan.flatMap((n) => (n['Index Name']?.startsWith('jobs_') ? [n['Index Name']] : []))
    expect(indexes).toContain('jobs_pkey')
    for (const index of indexes)
      expect(['jobs_pkey', 'jobs_depends_on_idx', 'jobs_group_idx'], JSON.stringify(indexes)).toContain(index)
    expect(plan.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'jobs')).toEqual([])
  }

  it('completes a batch of successes by primary-key probes', async () => {
    const { client, ids } = await heldHorizonWithTenRunning()
    const scans = await successScans(client, ids)
    expectProbesOnly(scans)
  })

  it("finds each finished group job's successor without walking the dead entries of the group's earlier jobs", async () => {
    const { client, ids } = await heldHorizonBehindGroups()
    const scans = await successScans(client, ids)
    const probes = scans.filter((n) => n['Index Name'] === 'jobs_group_idx')
    expect(probes).not.toEqual([])
    const blocks = probes.reduce(
      (sum, n) => sum + (n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0),
      0,
    )
    // A probe that starts at the ended job's key reads one root-to-leaf path per group (6 blocks
    // here); one that starts at the front of the group reads every leaf page of the group's ~6,700
    // dead entries (82 here: on PostgreSQL 15 a row comparison `(group_key, id) > (...)` beside
    // `group_key = ...` starts there). A scalar `id > ...` lets the planner walk the primary key
    // instead (no probe of the group index at all, and the 2,000 jobs between read).
    expect(blocks).toBeLessThan(30)
  })

  it('completes a batch of mixed outcomes by primary-key probes', async () => {
    const { client, ids } = await heldHorizonWithTenRunning()
    const list = (values: readonly unknown[]) => `'{${values.join(',')}}'`
    const outcomes = ids.map((_, i) => (i % 2 === 0 ? 'succeeded' : 'retry'))
    const scans = await jobsScans(
      client,
      completeSql(sqlNames(db.schema)),
      'bigint[], text[], float8[], jsonb[], boolean[], jsonb[], int[], float8, text, jsonb[], float8[], float8[]',
      [
        list(ids),
        list(outcomes),
        list(ids.map(() => 'NULL')),
        list(ids.map(() => 'NULL')),
        list(ids.map(() => 'f')),
        list(ids.map(() => 'NULL')),
        list(ids.map(() => 1)),
        'NULL',
        `'${db.schema}_jobs'`,
        list(ids.map(() => 'NULL')),
        list(ids.map(() => 1000)),
        list(ids.map(() => 0)),
      ].join(', '),
    )
    expectProbesOnly(scans)
  })
})
