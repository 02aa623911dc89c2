/**
 * Transactional enqueue with Prisma: `prisma.$transaction(async (tx) => queue.enqueue(job, payload,
 * { tx: adaptPrismaTransaction(tx) }))`. The statement runs with `tx.$queryRawUnsafe(text,
 * ...values)`: Prisma sends strings, numbers and arrays of them as bound parameters, and every
 * parameter of the store's statements has an explicit cast, so no value is interpolated into SQL.
 * Tested with Prisma 7 and `@prisma/adapter-pg`; the interactive transaction must be open (the
 * `prisma.$transaction([...])` batch form has no transaction client).
 */
import type { TransactionHandle } from '../../../core/ports/store.js'
import { notATransaction } from './not-a-transaction.js'

/** The part of a Prisma interactive-transaction client (the `tx` of `prisma.$transaction`) the adapter uses. */
export interface PrismaTransactionLike {
  $queryRawUnsafe(query: string, ...values: unknown[]): PromiseLike<unknown>
}

/** Turns a Prisma transaction client (`prisma.$transaction(async (tx) => ...)`) into a transaction handle for `tx`. */
export function adaptPrismaTransaction(tx: PrismaTransactionLike): TransactionHandle {
  const t = tx as (Partial<PrismaTransactionLike> & { $disconnect?: unknown }) | null
  if (typeof t !== 'object' || t === null || typeof t.$queryRawUnsafe !== 'function')
    throw notATransaction('Prisma', tx, 'it has no $queryRawUnsafe(query, ...values) method')
  // A transaction client lacks the connection methods ($connect, $disconnect) of the PrismaClient.
  if (typeof t.$disconnect === 'function')
    throw notATransaction(
      'Prisma',
      tx,
      'it is the PrismaClient, not a transaction client, so the job would be enqueued outside it',
    )
  return {
    async query(text, values = []) {
      return tx.$queryRawUnsafe(text, ...values)
    },
  }
}
