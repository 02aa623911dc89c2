import { InvalidArgumentError } from '../../core/domain/errors.js'
import type { JobRecord } from '../../core/domain/job.js'
import { isJobId } from '../../core/domain/job-id.js'
import type { JobFilter } from '../../core/ports/store.js'
import { jsonContains } from './json-contains.js'

/**
 * True when `job` matches every given field of `filter` (an empty `ids` or `states` list matches
 * nothing, as `= ANY('{}')` does in SQL). `createdAfter` is inclusive, `createdBefore` exclusive;
 * `payloadContains` is a case-insensitive substring of the payload's JSON text; `payloadIncludes` is
 * JSON containment (`jsonb @>`, see `jsonContains`).
 */
export function matchesJobFilter(job: JobRecord, filter: JobFilter): boolean {
  if (filter.ids !== undefined && !filter.ids.includes(job.id)) return false
  if (filter.queue !== undefined && job.queue !== filter.queue) return false
  if (filter.kind !== undefined && job.kind !== filter.kind) return false
  if (filter.states !== undefined && !filter.states.includes(job.state)) return false
  if (filter.createdAfter !== undefined && job.createdAt < filter.createdAfter) return false
  if (filter.createdBefore !== undefined && job.createdAt >= filter.createdBefore) return false
  if (filter.groupKey !== undefined && job.groupKey !== filter.groupKey) return false
  if (filter.uniqueKey !== undefined && job.uniqueKey !== filter.uniqueKey) return false
  if (filter.scheduleName !== undefined && job.scheduleName !== filter.scheduleName) return false
  if (filter.minWeight !== undefined && job.weight < filter.minWeight) return false
  if (filter.payloadContains !== undefined) {
    const text = JSON.stringify(job.payload).toLowerCase()
    if (!text.includes(filter.payloadContains.toLowerCase())) return false
  }
  if (filter.payloadIncludes !== undefined && !jsonContains(job.payload, filter.payloadIncludes)) return false
  return true
}

/** The number of a job id given as a cursor or bound; throws `InvalidArgumentError` for anything else. */
export function parseJobId(id: unknown, field: string): number {
  if (!isJobId(id)) {
    throw new InvalidArgumentError(
      `${field} must be a job id (a string of digits, as returned by enqueue); got ${JSON.stringify(id)}.`,
    )
  }
  return Number(id)
}
