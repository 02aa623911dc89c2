/**
 * The orphan statements' plans (migration 011): the distinct kinds of waiting jobs come from one
 * index-only scan of the claim index (`kind` is INCLUDEd), not from a probe per kind of an index
 * leading with `kind` nor from a read of the table; the due jobs of unregistered kinds come from the
 * same index, and are not read at all while every kind is registered. Explained with the settings the
 * store runs them with, as custom and as generic plans, after VACUUM (so "index-only" reads no row).
 */
import type pg from 'pg'
import { expect, it } from 'vitest'
import {
  failOrphansSql,
  findOrphansSql,
  ORPHAN_PLANNER_SETTINGS,
} from '../../src/adapters/postgres/orphans.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { waitFor } from '../support/wait.js'
import { describePostgres, useStore } from './fixture.js'

const KINDS = 20

describePostgres('orphan check plans', () => {
  const db = useStore()

  /** EXPLAIN ANALYZE of `statement` (`find` or `fail`) as the store runs it, rolled back. */
  async function plan(
    statement: 'find' | 'fail',
    registered: readonly string[],
    mode: 'force_custom_plan' | 'force_generic_plan',
  ): Promise<string[]> {
    const client: pg.PoolClient = await db.pool.connect()
    try {
      await client.query('BEGIN')
      for (const [name, value] of Object.entries({
        ...ORPHAN_PLANNER_SETTINGS,
        plan_cache_mode: mode,
        jit: 'off',
      }))
        await client.query('SELECT set_config($1::text, $2::text, true)', [name, value])
      const names = sqlNames(db.schema)
      // $1 now (the database's), $2 stale-after, $3 the caller's kinds; to fail: $4 fail-after, $5 limit.
      const [sql, types, more] =
        statement === 'find'
          ? [findOrphansSql(names), 'float8, float8, text[]', '']
          : [failOrphansSql(names), 'float8, float8, text[], float8, int', ', 0, 100']
      await client.query(`PREPARE orphans_${statement}(${types}) AS ${sql}`)
      const values = `null, 60000, '{${registered.join(',')}}'${more}`
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE orphans_${statement}(${values})`,
      )
      return rows.map((r) => r['QUERY PLAN'])
    } finally {
      await client.query('ROLLBACK')
      await client.query('DEALLOCATE ALL')
      client.release()
    }
  }

  /** VACUUM until every page of jobs is all-visible (a snapshot another session holds can keep it from marking them). */
  async function vacuum(): Promise<void> {
    await waitFor(
      async () => {
        await db.pool.query(`VACUUM ANALYZE ${db.table('jobs')}`)
        const { rows } = await db.pool.query<{ all: boolean }>(
          `SELECT relallvisible >= relpages AS all FROM pg_class WHERE oid = $1::text::regclass`,
          [db.table('jobs')],
        )
        return rows[0]?.all === true
      },
      { timeoutMs: 60_000, message: 'VACUUM to mark every page of jobs all-visible' },
    )
  }

  /** The plan node reading `jobs` under `alias`, and the lines below it up to the next node. */
  function scanOf(lines: string[], alias: string): string[] {
    const at = lines.findIndex((l) => new RegExp(`Scan.* on jobs ${alias} `).test(l))
    expect(at, `a scan of jobs ${alias} in\n${lines.join('\n')}`).toBeGreaterThan(-1)
    const end = lines.findIndex((l, i) => i > at && l.includes('->'))
    return lines.slice(at, end === -1 ? undefined : end)
  }

  it('lists the kinds with one index-only scan of the claim index, and reads due jobs only for unregistered kinds', async () => {
    // A backlog of 20 kinds in two queues, some not due yet, beside running jobs.
    await db.pool.query(
      `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, attempt,
         attempted_at, attempted_by)
       SELECT 'k' || (g % ${KINDS}), CASE WHEN g % 3 = 0 THEN 'mail' ELSE 'default' END,
         CASE WHEN g % 10 = 5 THEN 'running' ELSE 'available' END, '{}',
         now() + CASE WHEN g % 7 = 0 THEN interval '1 hour' ELSE interval '0' END, now(), 3,
         CASE WHEN g % 10 = 5 THEN 1 ELSE 0 END, CASE WHEN g % 10 = 5 THEN now() END,
         CASE WHEN g % 10 = 5 THEN 'w' END
       FROM generate_series(1, 20000) g`,
    )
    const all = Array.from({ length: KINDS }, (_, i) => `k${i}`)
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
      for (const statement of ['find', 'fail'] as const) {
        for (const registered of [all, all.slice(1)]) {
          // A rolled-back failing statement left its deleted rows' pages not all-visible.
          await vacuum()
          const lines = await plan(statement, registered, mode)
          const where = `${statement}, ${mode}, ${registered.length} registered:\n${lines.join('\n')}`
          expect(
            lines.filter((l) => /Seq Scan on jobs|Bitmap Heap Scan on jobs [jd] /.test(l)),
            where,
          ).toEqual([])
          // The kinds: the claim index once, from end to end, without reading a row.
          const kinds = scanOf(lines, 'j')
          expect(kinds[0], where).toMatch(
            /Index Only Scan using jobs_claim_priority_idx on jobs j .*loops=1\)/,
          )
          expect(kinds.join('\n'), where).toMatch(/Heap Fetches: 0/)
          // The due jobs of unregistered kinds: the same index, only when there are some.
          const due = scanOf(lines, 'd')
          expect(due[0], where).toMatch(/Index Only Scan using jobs_claim_priority_idx on jobs d /)
          if (registered.length === KINDS) expect(due[0], where).toMatch(/never executed/)
          else expect(due.join('\n'), where).toMatch(/Heap Fetches: 0/)
        }
      }
    }
  })
})
