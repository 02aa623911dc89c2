/**
 * Jobs by name read through an index on the unique key, with and without the kind, in a table whose
 * keys have a long history of finished jobs (the unique index, `jobs_unique_key_held_idx` from 006 to 010, then `jobs_unique_key_unfinished_idx`,
 * covers only waiting, paused and running jobs; migration 005 adds `jobs_unique_key_id_idx` for the
 * rest; since 009, finished jobs are in `job_history`, whose partitions each index the key). Generic plans are forced: the
 * store runs these as named prepared statements, whose plan stops depending on the key.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { jobsByKeySql } from '../../src/adapters/postgres/job-admin.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { addNarrowRows } from '../support/narrow-tables.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

describePostgres('jobs by key: the plan', () => {
  const db = useStore()

  async function plan(withKind: boolean, analyze: boolean): Promise<string[]> {
    const client = new pg.Client({
      connectionString: databaseUrl(),
      options: '-c jit=off -c plan_cache_mode=force_generic_plan',
    })
    await client.connect()
    try {
      // 200 keys of 3 kinds, each with 100 finished jobs and (for half of them) one waiting holder.
      await client.query(
        `INSERT INTO ${db.table('job_history')} (id, kind, queue, state, payload, run_at, created_at, finished_at, max_attempts, unique_key)
         SELECT nextval('${sqlNames(db.schema).jobIdSequence}'), 'k' || (g % 3), 'default', 'succeeded', '{}', now(), now(), now(), 3, 'key-' || (g % 200)
         FROM generate_series(1, 20000) g`,
      )
      await client.query(
        `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, unique_key)
         SELECT 'k0', 'default', 'available', '{}', now(), now(), 3, 'key-' || g
         FROM generate_series(0, 99) g`,
      )
      await client.query(
        `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts)
         SELECT 'k0', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, 20000) g`,
      )
      await addNarrowRows(client, db.schema)
      if (analyze) await client.query(`ANALYZE ${db.table('jobs')}; ANALYZE ${db.table('job_history')}`)
      const sql = jobsByKeySql(sqlNames(db.schema), withKind)
      await client.query(`PREPARE by_key(${withKind ? 'text, text' : 'text'}) AS ${sql}`)
      const args = withKind ? `'key-150', 'k0'` : `'key-150'`
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE by_key(${args})`)
      return rows.map((r) => r['QUERY PLAN'])
    } finally {
      await client.end()
    }
  }

  for (const withKind of [true, false]) {
    for (const analyze of [false, true]) {
      it(`reads by an index on the key ${withKind ? 'with' : 'without'} the kind, ${analyze ? '' : 'not '}analyzed`, async () => {
        const lines = await plan(withKind, analyze)
        const text = lines.join('\n')
        expect(
          lines.filter((line) => line.includes('Seq Scan')),
          text,
        ).toEqual([])
        // Both parts (holders, newest finished job) go through an index on the key.
        const keyIndexScans = lines.filter((line) =>
          /(Index Scan( Backward)? using|Bitmap Index Scan on) (jobs|job_history_\w+)_unique_key_(held|unfinished|id)_idx/.test(
            line,
          ),
        )
        expect(keyIndexScans.length, text).toBeGreaterThanOrEqual(2)
        // The newest finished job: from the history partitions' key index (and jobs', for rows an
        // older process left there).
        expect(text).toMatch(/job_history_\w+_unique_key_id_idx/)
      })
    }
  }
})
