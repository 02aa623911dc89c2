import type { JobFilter } from '../ports/store.js'
import { ConveyorError, InvalidArgumentError } from './errors.js'
import { JOB_STATES, type JobState } from './job.js'
import { isJobId } from './job-id.js'
import { assertJsonValue, isStorableString } from './json.js'
import {
  describe,
  describeBadItem,
  validateName,
  validateOptionalInt,
  validateOptionalTime,
} from './validation.js'

const FILTER_KEYS = new Set([
  'ids',
  'queue',
  'kind',
  'states',
  'payloadContains',
  'payloadIncludes',
  'createdAfter',
  'createdBefore',
  'groupKey',
  'uniqueKey',
  'scheduleName',
  'minWeight',
  'key',
])

/**
 * Checks a job filter. With `requireCriterion`, an empty filter is refused, so a bulk action
 * never touches every job by accident (pass `{ states: [...] }` to mean "all in these states").
 */
export function validateJobFilter(filter: unknown, requireCriterion = false): JobFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw new InvalidArgumentError(
      `A job filter must be an object such as { queue: 'default', states: ['failed'] }; got ${describe(filter)}.`,
    )
  }
  const f = filter as Record<string, unknown>
  for (const key of Object.keys(f)) {
    if (!FILTER_KEYS.has(key))
      throw new InvalidArgumentError(
        `Unknown job filter field ${JSON.stringify(key)}. Known: ${[...FILTER_KEYS].join(', ')}.`,
      )
  }
  if (f.ids !== undefined && (!Array.isArray(f.ids) || f.ids.some((id) => !isJobId(id)))) {
    throw new InvalidArgumentError(
      `filter.ids must be an array of job id strings; ${describeBadItem(f.ids, 'filter.ids', isJobId)}.`,
    )
  }
  if (f.queue !== undefined) validateName(f.queue, 'filter.queue')
  if (f.kind !== undefined) validateName(f.kind, 'filter.kind')
  const isState = (s: unknown) => JOB_STATES.includes(s as JobState)
  if (f.states !== undefined && (!Array.isArray(f.states) || !f.states.every(isState))) {
    throw new InvalidArgumentError(
      `filter.states must be an array of ${JOB_STATES.join(', ')}; ${describeBadItem(f.states, 'filter.states', isState)}.`,
    )
  }
  for (const key of ['payloadContains', 'groupKey', 'uniqueKey', 'scheduleName', 'key'] as const) {
    const v = f[key]
    if (v !== undefined && (typeof v !== 'string' || v.length > 1000 || !isStorableString(v))) {
      throw new InvalidArgumentError(
        `filter.${key} must be a string of at most 1000 characters, without \\u0000 or lone surrogates; got ${describe(v)}.`,
      )
    }
  }
  if (f.payloadIncludes !== undefined) validatePayloadPattern(f.payloadIncludes)
  validateOptionalInt(f.minWeight, 'filter.minWeight', 1, 10_000)
  for (const key of ['createdAfter', 'createdBefore'] as const) {
    const v = f[key]
    if (v !== undefined && typeof v !== 'number')
      throw new InvalidArgumentError(`filter.${key} must be epoch milliseconds; got ${describe(v)}.`)
    validateOptionalTime(v, `filter.${key}`)
  }
  if (requireCriterion && Object.values(f).every((v) => v === undefined)) {
    throw new InvalidArgumentError(
      'This bulk action needs at least one filter criterion (ids, queue, kind, states, ...).',
    )
  }
  return f as JobFilter
}

/** Longest `payloadIncludes` pattern, as JSON text. */
const MAX_PATTERN_LENGTH = 10_000

/** Checks a `payloadIncludes` pattern: JSON that can be stored (see `assertJsonValue`), of bounded size. */
function validatePayloadPattern(pattern: unknown): void {
  try {
    assertJsonValue(pattern, 'filter.payloadIncludes')
  } catch (error) {
    const problem = error instanceof ConveyorError ? error.message : String(error)
    throw new InvalidArgumentError(
      `${problem} Give the JSON the payload must contain, e.g. { customer: { id: 7 } }.`,
      { cause: error },
    )
  }
  const text = JSON.stringify(pattern)
  if (text.length > MAX_PATTERN_LENGTH) {
    throw new InvalidArgumentError(
      `filter.payloadIncludes is ${text.length} characters of JSON; at most ${MAX_PATTERN_LENGTH} are allowed. Match on fewer fields.`,
    )
  }
}
