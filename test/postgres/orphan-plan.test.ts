/**
 * The orphan statements' plans: the distinct (kind, queue) pairs of waiting jobs come from a skip scan
 * of `jobs_waiting_kind_idx` (one probe per pair, whatever the backlog), not from a read of the backlog
 * (an index-only scan of the claim index, tried and measured in docs/storage.md, read a million entries
 * per check) nor of the table; the due jobs of unserved pairs come from the same index, and are not
 * read at all while every pair is served. As custom and as generic plans, after VACUUM.
 */
import type pg from 'pg'
import { expect, it } from 'vitest'
import { failOrphansSql, findOrphansSql } from '../../src/adapters/postgres/orphans.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { waitFor } from '../support/wait.js'
import { describePostgres, useStore } from './fixture.js'

const KINDS = 20
/** The backlog's queues: every kind waits in each. */
const QUEUES = ['default', 'mail']

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
      for (const [name, value] of Object.entries({ plan_cache_mode: mode, jit: 'off' }))
        await client.query('SELECT set_config($1::text, $2::text, true)', [name, value])
      const names = sqlNames(db.schema)
      // $1 now (the database's), $2 stale-after, $3 the caller's kinds, $4 its queues; to fail: $5
      // fail-after, $6 limit, $7 channel.
      const [sql, types, more] =
        statement === 'find'
          ? [findOrphansSql(names), 'float8, float8, text[], text[]', '']
          : [
              failOrphansSql(names),
              'float8, float8, text[], text[], float8, int, text',
              `, 0, 100, '${names.jobsChannel}'`,
            ]
      await client.query(`PREPARE orphans_${statement}(${types}) AS ${sql}`)
      const values = `null, 60000, '{${registered.join(',')}}', '{${QUEUES.join(',')}}'${more}`
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

  /** The plan lines reading `jobs` under `alias` (or the planner's `alias_1` for a second use). */
  const scansOf = (lines: string[], alias: string) =>
    lines.filter((l) => new RegExp(`Scan.* on jobs ${alias}(_1)? `).test(l))

  it('lists the (kind, queue) pairs with a probe per pair of the kind index, and reads due jobs only for unserved pairs', async () => {
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
            lines.filter((l) => /Seq Scan on jobs|jobs_claim/.test(l)),
            where,
          ).toEqual([])
          // Bitmap scans only for the dependants of failed jobs (the cascade) and the orphans' due jobs.
          for (const l of lines.filter((x) => x.includes('Bitmap Index Scan')))
            expect(l, where).toMatch(/Bitmap Index Scan on (jobs_depends_on_idx|jobs_waiting_kind_idx) /)
          // The pairs: one probe of the kind index per pair (and one past the last), never the backlog.
          const kinds = scansOf(lines, 'j')
          expect(kinds.length, where).toBeGreaterThan(0)
          for (const scan of kinds) {
            expect(scan, where).toMatch(/Index Only Scan using jobs_waiting_kind_idx on jobs j(_1)? /)
            expect(Number(/loops=(\d+)\)/.exec(scan)?.[1]), where).toBeLessThanOrEqual(
              KINDS * QUEUES.length + 1,
            )
          }
          // The due jobs of unserved pairs: from the same index, and only when there are some.
          const at = lines.findIndex((l) => / on jobs d /.test(l))
          expect(at, where).toBeGreaterThan(-1)
          // The scan itself, or the bitmap index scan right below it.
          const child = lines.findIndex((l, i) => i > at && l.includes('->'))
          expect(`${lines[at]}\n${lines[child]}`, where).toMatch(
            /(using|Bitmap Index Scan on) jobs_waiting_kind_idx/,
          )
          if (registered.length === KINDS) expect(lines[at], where).toMatch(/never executed/)
          else expect(lines[at], where).not.toMatch(/never executed/)
        }
      }
    }
  })
})
