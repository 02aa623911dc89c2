/**
 * The database behind the README's Postgres examples: the test database (see
 * `test/support/database.ts`) and a fresh schema per example, dropped afterwards.
 */
import { afterAll, test } from 'vitest'
import { createTestSchema, provideDatabase } from '../support/database.js'

const database = await provideDatabase()
const schemas: { drop(): Promise<void> }[] = []
afterAll(async () => {
  for (const s of schemas) await s.drop()
})

/** `test`, or `test.skip` with the reason printed when no PostgreSQL is reachable. */
export const testWithPostgres: typeof test = 'skip' in database ? (test.skip as typeof test) : test
if ('skip' in database) console.warn(`[README Postgres examples skipped] ${database.skip}`)

/** A connection string and a fresh schema name for one example. */
export function exampleDatabase(): { connectionString: string; schema: string } {
  if ('skip' in database) throw new Error(database.skip)
  const s = createTestSchema(database.url, 'conveyor_readme')
  schemas.push(s)
  return { connectionString: database.url, schema: s.schema }
}
