import { expect, it } from 'vitest'
import { jsonContains } from '../../src/adapters/memory/json-contains.js'
import { CONTAINS_CASES } from '../unit/json-contains-cases.js'
import { describePostgres, usePool } from './fixture.js'

describePostgres('jsonb @> on PostgreSQL agrees with the memory adapter', () => {
  const db = usePool()

  it('gives the expected answer for every case, as the memory function does', async () => {
    const { rows } = await db.pool.query<{ i: number; contains: boolean }>(
      `SELECT c.i::int AS i, c.value @> c.pattern AS contains
       FROM unnest($1::jsonb[], $2::jsonb[]) WITH ORDINALITY AS c(value, pattern, i) ORDER BY c.i`,
      [
        CONTAINS_CASES.map((c) => JSON.stringify(c.value)),
        CONTAINS_CASES.map((c) => JSON.stringify(c.pattern)),
      ],
    )
    expect(rows).toHaveLength(CONTAINS_CASES.length)
    const disagreements = CONTAINS_CASES.flatMap((c, index) => {
      const server = rows[index]?.contains
      const memory = jsonContains(c.value, c.pattern)
      return server === c.contains && memory === c.contains
        ? []
        : [{ value: c.value, pattern: c.pattern, expected: c.contains, server, memory }]
    })
    expect(disagreements).toEqual([])
  })

  it('agrees one by one through SELECT $1::jsonb @> $2::jsonb', async () => {
    for (const c of CONTAINS_CASES) {
      const { rows } = await db.pool.query<{ contains: boolean }>(
        'SELECT $1::jsonb @> $2::jsonb AS contains',
        [JSON.stringify(c.value), JSON.stringify(c.pattern)],
      )
      expect({ value: c.value, pattern: c.pattern, server: rows[0]?.contains }).toEqual({
        value: c.value,
        pattern: c.pattern,
        server: jsonContains(c.value, c.pattern),
      })
    }
  })
})
