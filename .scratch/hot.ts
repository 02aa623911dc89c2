import pg from 'pg'
import { PostgresStore } from '../src/adapters/postgres/postgres-store.js'
const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 4 })
const schema = `hot_${Date.now()}`
const store = new PostgresStore({ pool, schema })
await store.migrate()
const now = Date.now()
const jobs = Array.from({ length: 5000 }, (_, i) => ({ kind: 'k', queue: 'default', payload: { i }, priority: 0, runAt: now, maxAttempts: 3, timeoutMs: 0, weight: 1, uniqueKey: null, groupKey: null, dependsOn: [], metadata: {}, tags: [], workflowState: null, backoff: null, scheduleName: null, scheduleTick: null, traceContext: null }))
await store.insertJobs({ jobs: jobs as never })
let n = 0
for (;;) {
  const c = await store.claimJobs({ queues: ['default'], kinds: ['k'], capacity: 100, workerId: 'p:w', strategy: 'priority' } as never)
  if (c.length === 0) break
  n += c.length
  // half retry (HOT path), half succeed
  await store.completeJobs({ completions: c.map((j) => j.attempt === 1 && Number(j.id) % 2 ? { id: j.id, outcome: 'retry', runAt: now, attempt: j.attempt, error: { attempt: 1, at: now, name: 'E', message: 'x' } } : { id: j.id, outcome: 'succeeded', attempt: j.attempt }) as never })
}
const { rows } = await pool.query(`SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('jobs','job_ready','job_running')`, [schema])
console.log(n, rows)
await store.close()
await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
await pool.end()
