import { AssertionError } from 'node:assert'
import { InvalidArgumentError } from '../../core/domain/errors.js'
import { type JobRecord, type JobState, WAITING_STATES } from '../../core/domain/job.js'
import { isJobDefinition, type JobDefinition } from '../../core/domain/job-definition.js'
import type { JsonValue } from '../../core/domain/json.js'
import { describeValue, listJobs, queuedSection } from './assertion-report.js'
import { type DeepPartial, matchesDeepPartial } from './deep-partial.js'
import type { MemoryStore } from './memory-store.js'

/** A stored job whose payload has the type of its definition. */
export type TypedJob<P> = Omit<JobRecord, 'payload'> & { readonly payload: P }

/** What a queued job's payload must match: a deep-partial payload, or a predicate. */
export type PayloadMatch<P> = DeepPartial<P> | ((payload: P, job: JobRecord) => boolean)

/** Further conditions of `queued` / `notQueued`; every given one must hold. */
export interface QueuedOptions {
  /** Exactly this many jobs must match (default: at least one). */
  readonly count?: number
  readonly queue?: string
  readonly priority?: number
  /** Expected run-at, within `runAtToleranceMs`. */
  readonly runAt?: Date | number
  /** Allowed distance from `runAt` in ms (default 1000). */
  readonly runAtToleranceMs?: number
  /** States that count as queued (default the waiting states: scheduled, available, retryable). */
  readonly state?: JobState | readonly JobState[]
  readonly uniqueKey?: string
  readonly groupKey?: string
  /** Tags the job must have (it may have more). */
  readonly tags?: readonly string[]
  /** A deep-partial match of the job's metadata. */
  readonly metadata?: DeepPartial<Record<string, JsonValue>>
}

/** Options of the assertions that count all queued jobs. */
export interface QueueScope {
  /** Only jobs in this queue (default every queue). */
  readonly queue?: string
}

/** Assertions over what a memory queue holds; failures throw `AssertionError` from `node:assert`. */
export interface QueueAssertions {
  /** Asserts that a waiting job of this kind matches; returns the first match, typed. */
  queued<P>(job: JobDefinition<P> | string, match?: PayloadMatch<P>, options?: QueuedOptions): TypedJob<P>
  /** Asserts that no waiting job of this kind matches. */
  notQueued<P>(
    job: JobDefinition<P> | string,
    match?: PayloadMatch<P>,
    options?: Omit<QueuedOptions, 'count'>,
  ): void
  /** Asserts that no job is waiting (in `queue`, when given). */
  empty(options?: QueueScope): void
  /** Asserts that at least one job is waiting (in `queue`, when given). */
  notEmpty(options?: QueueScope): void
  /** Asserts that exactly `count` jobs are waiting (in `queue`, when given). */
  queuedTotal(count: number, options?: QueueScope): void
}

/** Creates the assertions for a memory store (`queue.assert` of `createMemoryQueue`). */
export function createAssertions(store: MemoryStore): QueueAssertions {
  const waiting = (states: readonly JobState[], queue?: string): JobRecord[] =>
    store.allJobs().filter((j) => states.includes(j.state) && (queue === undefined || j.queue === queue))

  const assertions: QueueAssertions = {
    queued<P>(
      job: JobDefinition<P> | string,
      match?: PayloadMatch<P>,
      options: QueuedOptions = {},
    ): TypedJob<P> {
      const kind = kindOf(job, 'queued')
      const count = options.count
      if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
        throw new InvalidArgumentError(
          `queued(): count must be an integer >= 1 (use notQueued() for none); got ${describeValue(count)}.`,
        )
      }
      const { states, queued, matches } = select(waiting, kind, match, options)
      const ok = count === undefined ? matches.length > 0 : matches.length === count
      if (!ok) {
        const wanted = count === undefined ? 'a queued' : `${count} queued`
        const message = `Expected ${wanted} ${describeTarget(kind, match, options)}, found ${matches.length}.`
        const sameKind = queued.filter((j) => j.kind === kind).map((j) => j.payload)
        fail(
          `${message}\n${matchesSection(matches, count)}${queuedSection(queued, listTitle(states))}`,
          count === undefined ? (sameKind.length === 1 ? sameKind[0] : sameKind) : matches.length,
          count === undefined
            ? typeof match === 'function'
              ? 'a payload accepted by the predicate'
              : match
            : count,
          assertions.queued,
        )
      }
      return matches[0] as TypedJob<P>
    },

    notQueued<P>(
      job: JobDefinition<P> | string,
      match?: PayloadMatch<P>,
      options: Omit<QueuedOptions, 'count'> = {},
    ): void {
      const kind = kindOf(job, 'notQueued')
      const { matches } = select(waiting, kind, match, options)
      if (matches.length > 0) {
        fail(
          `Expected no queued ${describeTarget(kind, match, options)}, found ${matches.length}:\n${listJobs(matches)}`,
          matches.map((j) => j.payload),
          [],
          assertions.notQueued,
        )
      }
    },

    empty(options: QueueScope = {}): void {
      const jobs = waiting(WAITING_STATES, options.queue)
      if (jobs.length > 0) {
        fail(
          `Expected no queued jobs${inQueue(options)}, found ${jobs.length}.\n${queuedSection(jobs)}`,
          jobs.length,
          0,
          assertions.empty,
        )
      }
    },

    notEmpty(options: QueueScope = {}): void {
      if (waiting(WAITING_STATES, options.queue).length === 0) {
        const elsewhere = options.queue === undefined ? [] : waiting(WAITING_STATES)
        const hint =
          elsewhere.length > 0 ? `\n${queuedSection(elsewhere, 'Queued jobs in other queues')}` : ''
        fail(
          `Expected at least one queued job${inQueue(options)}, found none.${hint}`,
          0,
          'at least 1',
          assertions.notEmpty,
        )
      }
    },

    queuedTotal(count: number, options: QueueScope = {}): void {
      if (!Number.isInteger(count) || count < 0) {
        throw new InvalidArgumentError(
          `queuedTotal(count): count must be an integer >= 0; got ${describeValue(count)}.`,
        )
      }
      const jobs = waiting(WAITING_STATES, options.queue)
      if (jobs.length !== count) {
        const message = `Expected ${count} queued job${count === 1 ? '' : 's'}${inQueue(options)}, found ${jobs.length}.`
        fail(`${message}\n${queuedSection(jobs)}`, jobs.length, count, assertions.queuedTotal)
      }
    },
  }
  return assertions
}

/** The jobs in the selected states, and those of them that match kind, payload and options. */
function select<P>(
  waiting: (states: readonly JobState[]) => JobRecord[],
  kind: string,
  match: PayloadMatch<P> | undefined,
  options: QueuedOptions,
): { states: readonly JobState[]; queued: JobRecord[]; matches: JobRecord[] } {
  const states =
    options.state === undefined
      ? WAITING_STATES
      : typeof options.state === 'string'
        ? [options.state]
        : options.state
  const queued = waiting(states)
  const matches = queued.filter(
    (job) => job.kind === kind && matchesOptions(job, options) && matchesPayload(job, match),
  )
  return { states, queued, matches }
}

function matchesPayload<P>(job: JobRecord, match: PayloadMatch<P> | undefined): boolean {
  if (match === undefined) return true
  if (typeof match === 'function')
    return Boolean((match as (payload: P, job: JobRecord) => boolean)(job.payload as P, job))
  return matchesDeepPartial(match, job.payload)
}

function matchesOptions(job: JobRecord, options: QueuedOptions): boolean {
  if (options.queue !== undefined && job.queue !== options.queue) return false
  if (options.priority !== undefined && job.priority !== options.priority) return false
  if (options.runAt !== undefined) {
    const expected = typeof options.runAt === 'number' ? options.runAt : options.runAt.getTime()
    if (Math.abs(job.runAt - expected) > (options.runAtToleranceMs ?? 1000)) return false
  }
  if (options.uniqueKey !== undefined && job.uniqueKey !== options.uniqueKey) return false
  if (options.groupKey !== undefined && job.groupKey !== options.groupKey) return false
  if (options.tags !== undefined && !options.tags.every((tag) => job.tags.includes(tag))) return false
  if (options.metadata !== undefined && !matchesDeepPartial(options.metadata, job.metadata)) return false
  return true
}

/** `"send-email" job matching {"to":"a@b.c"} with {"queue":"mail"}` */
function describeTarget(kind: string, match: unknown, options: QueuedOptions): string {
  let text = `${JSON.stringify(kind)} job`
  if (match !== undefined) text += ` matching ${describeValue(match)}`
  const { count: _count, ...conditions } = options
  const shown = Object.fromEntries(
    Object.entries(conditions).map(([key, value]) => [
      key,
      value instanceof Date ? value.toISOString() : value,
    ]),
  )
  if (Object.keys(shown).length > 0) text += ` with ${describeValue(shown)}`
  return text
}

function matchesSection(matches: readonly JobRecord[], count: number | undefined): string {
  if (count === undefined || matches.length === 0) return ''
  return `Matching jobs (${matches.length}):\n${listJobs(matches)}\n`
}

/** "Queued jobs" for the waiting states, else the states listed ("Jobs in running/failed"). */
function listTitle(states: readonly JobState[]): string {
  return states === WAITING_STATES ? 'Queued jobs' : `Jobs in ${states.join('/')}`
}

function inQueue(options: QueueScope): string {
  return options.queue === undefined ? '' : ` in queue ${JSON.stringify(options.queue)}`
}

function kindOf(job: JobDefinition<unknown> | string, method: string): string {
  if (typeof job === 'string' && job.length > 0) return job
  if (isJobDefinition(job)) return job.kind
  throw new InvalidArgumentError(
    `${method}() needs a job definition (from defineJob) or a kind name; got ${describeValue(job)}.`,
  )
}

// biome-ignore lint/complexity/noBannedTypes: stackStartFn takes any function, as node:assert does.
function fail(message: string, actual: unknown, expected: unknown, stackStartFn: Function): never {
  throw new AssertionError({ message, actual, expected, operator: stackStartFn.name, stackStartFn })
}
