/** A one-connection PostgreSQL client for the parent's cheap progress and verification queries. */
import pg from 'pg'
import type { Counter } from '../lib/types.js'

/** Builds a `Counter` from a query counting unfinished jobs and a final-state check. */
export async function openPgCounter(
  url: string,
  remainingSql: string,
  verify: (client: pg.Client, n: number) => Promise<string | null>,
  params: unknown[] = [],
): Promise<Counter> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  // The count must stay an index scan over the unfinished jobs: with a million finished rows a
  // (parallel) sequential scan every poll would load the database it is measuring.
  await client.query('SET enable_seqscan = off')
  await client.query('SET max_parallel_workers_per_gather = 0')
  return {
    async remaining() {
      const { rows } = await client.query<{ n: number }>(remainingSql, params)
      return Number(rows[0]?.n ?? 0)
    },
    verify: (n) => verify(client, n),
    close: () => client.end().catch(() => {}),
  }
}

/** Runs a statement on a short-lived connection. */
export async function runSql(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(sql, params)
  } finally {
    await client.end().catch(() => {})
  }
}
