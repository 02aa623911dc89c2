/**
 * `conveyor-jobs/memory`: the in-memory adapter and its test helpers. Same semantics as the Postgres
 * adapter (the conformance suite proves it), a `ManualClock` by default, and assertions for
 * producer unit tests that need no database.
 */

import { resolveConfig } from '../../core/config/resolve-config.js'
import { type CoreQueue, createConfiguredQueue } from '../../core/create-queue.js'
import type { JobRecord } from '../../core/domain/job.js'
import type { JobDefinition } from '../../core/domain/job-definition.js'
import { extendQueue } from '../../core/extend-queue.js'
import { type Clock, ManualClock } from '../../core/ports/clock.js'
import {
  DEFAULT_MIDDLEWARE_KEYS,
  type TracedQueueOptions,
  withDefaultMiddleware,
} from '../../instrumentation/default-middleware.js'
import { createNodeIsolation } from '../../isolation/node-isolation.js'
import { createAssertions, type QueueAssertions, type TypedJob } from './assertions.js'
import { MemoryStore } from './memory-store.js'
import { MemoryTransaction } from './memory-transaction.js'

/**
 * Options of `createMemoryQueue`: the shared queue options and `tracing`; `clock` defaults to a new
 * `ManualClock`.
 */
export interface MemoryQueueOptions extends TracedQueueOptions {
  readonly clock?: Clock
}

/** A queue held in memory, with test helpers. */
export interface MemoryQueue<C extends Clock = ManualClock> extends CoreQueue {
  readonly clock: C
  /** The in-memory store (for inspection in tests). */
  readonly store: MemoryStore
  /** Assertions over the queued jobs: `queue.assert.queued(sendEmail, { to: 'a@b.c' })`. */
  readonly assert: QueueAssertions
  /** The oldest job of a kind, in any state, or undefined. */
  getFirstOf<P>(job: JobDefinition<P> | string): TypedJob<P> | undefined
  /** Every job of a kind, in any state, oldest first. */
  all<P>(job: JobDefinition<P> | string): TypedJob<P>[]
  /** Drops every job, schedule and paused flag (handlers stay registered). */
  reset(): void
  /** A transaction handle: enqueue with `{ tx }`, then `commit()` or `rollback()` (or query('COMMIT')). */
  createTransaction(): MemoryTransaction
  /** Runs `fn` with a transaction, commits when it resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: MemoryTransaction) => Promise<T>): Promise<T>
}

/** Creates an in-memory queue; by default its clock is a `ManualClock` you advance by hand. */
export function createMemoryQueue(options?: Omit<MemoryQueueOptions, 'clock'>): MemoryQueue<ManualClock>
/** Creates an in-memory queue on the given clock (e.g. `createSystemClock()` for demos). */
export function createMemoryQueue<C extends Clock>(options: MemoryQueueOptions & { clock: C }): MemoryQueue<C>
export function createMemoryQueue(options: MemoryQueueOptions = {}): MemoryQueue<Clock> {
  const config = resolveConfig(withDefaultMiddleware(options), {
    clock: () => new ManualClock(),
    extraKeys: DEFAULT_MIDDLEWARE_KEYS,
  })
  const store = new MemoryStore({ clock: config.clock })
  const core = createConfiguredQueue(store, config, createNodeIsolation())
  const kindOf = (job: JobDefinition<unknown> | string) => (typeof job === 'string' ? job : job.kind)
  const extras = {
    store,
    assert: createAssertions(store),
    getFirstOf: (job: JobDefinition<unknown> | string) =>
      store.allJobs().find((j: JobRecord) => j.kind === kindOf(job)),
    all: (job: JobDefinition<unknown> | string) =>
      store.allJobs().filter((j: JobRecord) => j.kind === kindOf(job)),
    reset: () => store.reset(),
    createTransaction: () => new MemoryTransaction(),
    async transaction<T>(fn: (tx: MemoryTransaction) => Promise<T>): Promise<T> {
      const tx = new MemoryTransaction()
      try {
        const result = await fn(tx)
        await tx.commit()
        return result
      } catch (error) {
        if (tx.state === 'open') await tx.rollback()
        throw error
      }
    },
  }
  return extendQueue(core, extras) as unknown as MemoryQueue<Clock>
}

export type { PayloadMatch, QueueAssertions, QueuedOptions, QueueScope, TypedJob } from './assertions.js'
export type { DeepPartial } from './deep-partial.js'
export { MemoryStore } from './memory-store.js'
export {
  MemoryTransaction,
  type MemoryTransactionState,
  type TransactionParticipant,
} from './memory-transaction.js'
