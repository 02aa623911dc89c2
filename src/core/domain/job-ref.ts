/**
 * Job references: a job named by its id or by its name, the unique key it was enqueued with.
 *
 * Which job a name means: the job of `kind` (of any kind when absent) that holds the key, that is
 * waits, is paused or runs with it (a unique key has at most one such job per kind); when none holds it, the
 * newest finished job that had the key (the one enqueued last, largest id). A name without `kind`
 * that two kinds hold at once is ambiguous (`AmbiguousJobKeyError`): give the kind.
 */
import { InvalidArgumentError } from './errors.js'
import { isJobId } from './job-id.js'
import { describe, validateName, validateOptionalString } from './validation.js'

/** Longest unique key (as enqueue accepts it). */
export const MAX_UNIQUE_KEY_LENGTH = 512

/**
 * A job named by its unique key (`{ key: 'nightly-report' }`): the job of `kind` (any kind when
 * absent) that waits, is paused or runs with that key, else the newest finished job that had it.
 */
export interface JobKeyRef {
  /** The unique key the job was enqueued with (`uniqueKey`). */
  readonly key: string
  /** The job's kind; needed only when jobs of several kinds hold the key at once. */
  readonly kind?: string
}

/** One job: its id (as enqueue returns it) or its name (`JobKeyRef`). */
export type JobRef = string | JobKeyRef

/**
 * Checks a job reference for `call` (e.g. `getJob(job)`); returns the canonical id ("007" is job 7)
 * or the name with only its given fields. Throws `InvalidArgumentError` saying what a reference is.
 */
export function validateJobRef(ref: unknown, call: string): JobRef {
  if (typeof ref === 'string') {
    if (isJobId(ref)) return BigInt(ref).toString()
    throw new InvalidArgumentError(
      `${call} needs a job id (a string of digits, as returned by enqueue) or a name such as { key: 'nightly-report' }; got ${describe(ref)}.`,
    )
  }
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) {
    throw new InvalidArgumentError(
      `${call} needs a job id (a string of digits, as returned by enqueue) or a name such as { key: 'nightly-report' }; got ${describe(ref)}.`,
    )
  }
  const r = ref as Record<string, unknown>
  for (const field of Object.keys(r)) {
    if (field !== 'key' && field !== 'kind') {
      throw new InvalidArgumentError(
        `${call}: a job name has only key and kind ({ key: 'nightly-report', kind: 'report' }); unknown field ${JSON.stringify(field)}.`,
      )
    }
  }
  if (r.key === undefined) {
    throw new InvalidArgumentError(
      `${call}: a job name needs its key, the uniqueKey the job was enqueued with: { key: 'nightly-report' }.`,
    )
  }
  if (typeof r.key !== 'string') {
    throw new InvalidArgumentError(
      `${call}: a job name's key must be a string, the uniqueKey the job was enqueued with; got ${describe(r.key)}.`,
    )
  }
  const key = validateOptionalString(r.key, `${call}: key`, MAX_UNIQUE_KEY_LENGTH) as string
  if (r.kind === undefined) return { key }
  return { key, kind: validateName(r.kind, `${call}: kind`) }
}

/** How a reference reads in messages: `job "42"` or `the job named "nightly-report" (kind "report")`. */
export function describeJobRef(ref: JobRef): string {
  if (typeof ref === 'string') return `job ${JSON.stringify(ref)}`
  return `the job named ${JSON.stringify(ref.key)}${ref.kind !== undefined ? ` (kind ${JSON.stringify(ref.kind)})` : ''}`
}
