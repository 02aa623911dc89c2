/** Job ids at the adapter boundary: decimal strings of a PostgreSQL bigint. */
import { InvalidArgumentError } from '../../core/domain/errors.js'
import { isJobId } from '../../core/domain/job-id.js'

export { isJobId }

/** Throws `InvalidArgumentError` naming `field` unless `id` is a job id; returns it. */
export function assertJobId(id: unknown, field: string): string {
  if (!isJobId(id)) {
    throw new InvalidArgumentError(
      `${field} must be a job id (a string of digits, as returned by enqueue); got ${JSON.stringify(id)}.`,
    )
  }
  return id
}
