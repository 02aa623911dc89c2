/** Job ids at the adapter boundary: decimal strings of a PostgreSQL bigint. */
import { InvalidArgumentError } from '../../core/errors.js'

const JOB_ID = /^[0-9]{1,19}$/

/** True when `id` has the shape of a job id. */
export function isJobId(id: unknown): id is string {
  return typeof id === 'string' && JOB_ID.test(id)
}

/** Throws `InvalidArgumentError` naming `field` unless `id` is a job id; returns it. */
export function assertJobId(id: unknown, field: string): string {
  if (!isJobId(id)) {
    throw new InvalidArgumentError(
      `${field} must be a job id (a string of digits, as returned by enqueue); got ${JSON.stringify(id)}.`,
    )
  }
  return id
}
