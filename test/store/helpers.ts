/**
 * Helpers of the store-level cases: a fresh store per test, `NewJob` rows and claim parameters with
 * test defaults, errors, and `itWith`, which switches a case off (with a message) when the store
 * lacks a capability. Every call passes an explicit `now`.
 */
import { beforeEach, it } from 'vitest'
import type { AttemptError, JobRecord } from '../../src/core/domain/job.js'
import type {
  ClaimParams,
  JobStore,
  NewJob,
  StoreCapabilities,
  UpsertScheduleParams,
} from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'
import type { StoreFactory } from './factory.js'

/** The time the cases start at: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1)

/** A job of kind `test` in queue `default`, due at `T0`, overridden by `fields`. */
export const newJob = newJobBuilder({ runAt: T0 })

/** Returns a getter of a fresh store, created before each test of the enclosing `describe`. */
export function useStore(factory: StoreFactory): () => JobStore {
  let store: JobStore | undefined
  beforeEach(async () => {
    store = await factory.createStore()
  })
  return () => store as JobStore
}

/** Claim parameters for queue `default`, kind `test`, capacity 100 at `T0`, overridden by `fields`. */
export function claimParams(fields: Partial<ClaimParams> = {}): ClaimParams {
  return {
    queues: ['default'],
    kinds: ['test'],
    capacity: 100,
    strategy: 'priority',
    now: T0,
    workerId: 'p1:w1',
    ...fields,
  }
}

/** Inserts rows (with `newJob` defaults) at `now`; returns the stored jobs in order. */
export async function insert(store: JobStore, rows: Partial<NewJob>[], now = T0): Promise<JobRecord[]> {
  return (await store.insertJobs({ jobs: rows.map(newJob), now })).map((o) => o.job)
}

/** Inserts rows and returns their ids, in order. */
export async function insertIds(store: JobStore, rows: Partial<NewJob>[], now = T0): Promise<string[]> {
  return (await insert(store, rows, now)).map((j) => j.id)
}

/** Claims with `claimParams(fields)`; returns the ids claimed, in order. */
export async function claimIds(store: JobStore, fields: Partial<ClaimParams> = {}): Promise<string[]> {
  return ids(await store.claimJobs(claimParams(fields)))
}

/** The ids of `jobs`, in order. */
export const ids = (jobs: readonly { id: string }[]): string[] => jobs.map((j) => j.id)

/** An attempt error. */
export const attemptError = (attempt: number, message = 'boom', at = T0): AttemptError => ({
  attempt,
  at,
  name: 'Error',
  message,
  stack: `Error: ${message}\n    at here`,
})

/** Reads a job that must exist. */
export async function getJob(store: JobStore, id: string): Promise<JobRecord> {
  const job = await store.getJob({ id })
  if (!job) throw new Error(`job ${id} does not exist`)
  return job
}

/** A schedule to upsert: kind `test`, every minute, next tick at `nextRunAt`, overridden by `fields`. */
export function scheduleOf(
  name: string,
  nextRunAt: number | null,
  fields: Partial<UpsertScheduleParams['schedule']> = {},
): UpsertScheduleParams['schedule'] {
  const { kind, payload, runAt, scheduleName, scheduleTick, ...jobTemplate } = newJob()
  return {
    name,
    expression: '@every 1 minute',
    timezone: null,
    kind,
    payload: { from: name },
    jobTemplate,
    nextRunAt,
    missedPolicy: 'runOnce',
    ...fields,
  }
}

/** The job of schedule `name`'s tick at `tick`. */
export const tickJob = (name: string, tick: number, fields: Partial<NewJob> = {}): NewJob =>
  newJob({ scheduleName: name, scheduleTick: tick, runAt: tick, ...fields })

/** `it`, or an expected failure (`it.fails`, reason in its name) when the factory lists the case as a known gap. */
export function itConforms(factory: StoreFactory, name: string, fn: () => Promise<void>): void {
  const gap = factory.knownGaps?.[name]
  if (gap === undefined) it(name, fn)
  else it.fails(`${name} [known gap of ${factory.name}: ${gap}]`, fn)
}

/** `it`, or `it.skip` with the missing capability in its name when the store lacks it. */
export function itWith(
  factory: StoreFactory,
  capability: keyof StoreCapabilities,
  name: string,
  fn: () => Promise<void>,
): void {
  if (factory.capabilities[capability]) it(name, fn)
  else it.skip(`${name} [off: ${factory.name} lacks ${capability}]`, fn)
}
