/**
 * The client adapters without a database: placeholder rewriting, the invariant they rely on (every
 * parameter of the store's insert statements has an explicit cast), no import of any client, and
 * the errors that say what to pass.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineJob } from 'conveyor-jobs'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import {
  adaptDrizzleTransaction,
  adaptKnexTransaction,
  adaptKyselyTransaction,
  adaptPostgresJsTransaction,
  adaptPrismaTransaction,
} from 'conveyor-jobs/postgres'
import { describe, expect, it } from 'vitest'
import { toKnexBindings } from '../../src/adapters/postgres/clients/knex.js'
import { insertSql } from '../../src/adapters/postgres/insert-sql.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { InvalidArgumentError, InvalidOptionsError } from '../../src/core/domain/errors.js'

describe('client adapters', () => {
  it('Knex: $n placeholders become ? in order of appearance, repeated values included, literal ? escaped', () => {
    expect(toKnexBindings('SELECT $2::int, $1::text, $2::int, $10::jsonb ? $1', [...'abcdefghij'])).toEqual({
      sql: 'SELECT ?::int, ?::text, ?::int, ?::jsonb \\? ?',
      bindings: ['b', 'a', 'b', 'j', 'a'],
    })
  })

  it('every parameter of the insert statements has an explicit cast (values may arrive as text)', () => {
    const statements = Object.entries(insertSql(sqlNames('conveyor')))
    expect(statements.length).toBeGreaterThan(0)
    for (const [name, text] of statements) {
      const uncast = [...text.matchAll(/\$\d+(?!\d)(?!::)/g)].map((m) => m[0])
      expect({ name, uncast }).toEqual({ name, uncast: [] })
    }
  })

  it('imports none of the clients: the package loads and typechecks without them', () => {
    const dir = join(import.meta.dirname, '..', '..', 'src', 'adapters', 'postgres', 'clients')
    for (const file of readdirSync(dir)) {
      const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1])
      expect(imports.filter((i) => !i!.startsWith('.') && !i!.startsWith('node:'))).toEqual([])
    }
  })

  it.each([
    ['adaptKnexTransaction', () => adaptKnexTransaction({} as never)],
    ['adaptKyselyTransaction', () => adaptKyselyTransaction(null as never)],
    ['adaptDrizzleTransaction', () => adaptDrizzleTransaction('tx' as never)],
    ['adaptPrismaTransaction', () => adaptPrismaTransaction({} as never)],
    ['adaptPostgresJsTransaction', () => adaptPostgresJsTransaction({} as never)],
  ])('%s rejects what is not a transaction with a typed error', (name, call) => {
    expect(call).toThrow(InvalidArgumentError)
    expect(call).toThrow(new RegExp(`^${name} needs the transaction that .+ passes to its callback; got `))
  })

  it("names the right adapter when given another client's transaction", () => {
    const prismaTx = { $queryRawUnsafe: async () => [] }
    expect(() => adaptKnexTransaction(prismaTx as never)).toThrow(
      /It looks like a Prisma client: use adaptPrismaTransaction\(tx\) instead/,
    )
  })

  it('the tx option of enqueue names the adapters when given a client it cannot use', async () => {
    const queue = createMemoryQueue()
    const job = defineJob<{ n: number }>({ kind: 'n' })
    const knexTrx = Object.assign(() => {}, { raw: () => {}, isTransaction: true })
    const call = queue.enqueue(job, { n: 1 }, { tx: knexTrx as never })
    await expect(call).rejects.toBeInstanceOf(InvalidOptionsError)
    await expect(call).rejects.toThrow(/adaptKnexTransaction\(trx\).+from conveyor-jobs\/postgres/)
  })
})
