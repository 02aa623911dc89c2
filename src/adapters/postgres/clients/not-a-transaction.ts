/**
 * The error for a value that is not the transaction an adapter expects, naming what to pass instead
 * (it recognises the usual mistakes: the root client instead of its transaction, another client).
 */
import { InvalidArgumentError } from '../../../core/domain/errors.js'
import { describe } from '../../../core/domain/validation.js'

/** What each client's transaction looks like, and which function adapts it. */
const CLIENTS = [
  { name: 'Knex', adapter: 'adaptKnexTransaction(trx)', from: 'knex.transaction(async (trx) => ...)' },
  {
    name: 'Kysely',
    adapter: 'adaptKyselyTransaction(trx)',
    from: 'db.transaction().execute(async (trx) => ...)',
  },
  { name: 'Drizzle', adapter: 'adaptDrizzleTransaction(tx)', from: 'db.transaction(async (tx) => ...)' },
  { name: 'Prisma', adapter: 'adaptPrismaTransaction(tx)', from: 'prisma.$transaction(async (tx) => ...)' },
  { name: 'postgres.js', adapter: 'adaptPostgresJsTransaction(sql)', from: 'sql.begin(async (sql) => ...)' },
] as const

/** The client whose name is given. */
export type ClientName = (typeof CLIENTS)[number]['name']

/** Guesses which client `value` comes from by its shape (null when it looks like none of them). */
export function recognizeClient(value: unknown): ClientName | null {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return null
  const v = value as Record<string, unknown>
  const has = (key: string) => typeof v[key] === 'function'
  if (has('$queryRawUnsafe')) return 'Prisma'
  if (has('unsafe') && (has('begin') || has('savepoint'))) return 'postgres.js'
  if (has('raw') && has('transaction') && 'isTransaction' in v) return 'Knex'
  if (has('executeQuery') && has('withoutPlugins')) return 'Kysely'
  if (has('execute') && (has('rollback') || has('transaction')) && '_' in v) return 'Drizzle'
  return null
}

/**
 * A typed error for `value` passed to `adapter` (a `ClientName`'s adapter) that is not an open
 * transaction of that client; `problem` says what is wrong with it.
 */
export function notATransaction(client: ClientName, value: unknown, problem: string): InvalidArgumentError {
  const expected = CLIENTS.find((c) => c.name === client)!
  const seen = recognizeClient(value)
  const other = seen !== null && seen !== client ? CLIENTS.find((c) => c.name === seen) : undefined
  return new InvalidArgumentError(
    `${expected.adapter.replace(/\(.*/, '')} needs the transaction that ${expected.from} passes to its callback; ` +
      `got ${describe(value)}: ${problem}.` +
      (other ? ` It looks like a ${other.name} client: use ${other.adapter} instead.` : ''),
  )
}

/** A hint naming the adapter for `value` when it looks like a known client's transaction, else ''. */
export function adapterHint(value: unknown): string {
  const seen = recognizeClient(value)
  const client = seen === null ? undefined : CLIENTS.find((c) => c.name === seen)
  return client
    ? ` It looks like a ${client.name} transaction: wrap it with ${client.adapter} from conveyor-jobs/postgres.`
    : ' For Knex, Kysely, Drizzle, Prisma or postgres.js, wrap the transaction with adaptKnexTransaction(trx), adaptKyselyTransaction(trx), adaptDrizzleTransaction(tx), adaptPrismaTransaction(tx) or adaptPostgresJsTransaction(sql) from conveyor-jobs/postgres.'
}
