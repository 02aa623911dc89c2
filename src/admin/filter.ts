/**
 * The job list's filter as it travels in query strings and forms (`queue`, `kind`, `state`, `q`,
 * `from`, `to`, `schedule`, `key`, `uniqueKey`), turned into a core `JobFilter` and back into links.
 */
import { JOB_STATES, type JobState } from '../core/domain/job.js'
import type { JsonValue } from '../core/domain/json.js'
import type { JobFilter } from '../core/ports/store.js'
import { AdminHttpError } from './errors.js'

/** The filter fields of a query string or form; empty strings mean "any". */
export interface FilterFields {
  readonly queue?: string
  readonly kind?: string
  readonly schedule?: string
  /** A job's name: the job holding this unique key, else the newest finished one that had it. */
  readonly key?: string
  /** Every job enqueued with this unique key. */
  readonly uniqueKey?: string
  readonly state?: string
  readonly q?: string
  readonly from?: string
  readonly to?: string
  /** Only jobs at least this heavy (the overview links here for jobs no live worker will take). */
  readonly minWeight?: string
}

/** The names of the filter fields, in the order links and forms carry them. */
export const FILTER_FIELDS = [
  'queue',
  'kind',
  'state',
  'q',
  'from',
  'to',
  'schedule',
  'key',
  'uniqueKey',
  'minWeight',
] as const

const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d{1,3})?Z?$/

/** Parses a UTC time as the form's `datetime-local` fields send it (`2030-01-01T09:30`), or a full ISO time. */
export function parseUtcTime(text: string, field: string): number {
  const match = TIME.exec(text.trim())
  const ms = match === null ? Number.NaN : Date.parse(`${text.trim().replace(' ', 'T').replace(/Z$/, '')}Z`)
  if (Number.isNaN(ms)) {
    throw new AdminHttpError(
      400,
      `The ${field} time "${text}" is not valid: write a UTC time such as 2030-01-01T09:30.`,
      'INVALID_FILTER',
    )
  }
  return ms
}

/** Parses `state` (comma-separated), throwing a 400 that lists the known states. */
export function parseStates(text: string): JobState[] {
  const states: JobState[] = []
  for (const part of text.split(',')) {
    const state = part.trim()
    if (state === '') continue
    if (!JOB_STATES.includes(state as JobState)) {
      throw new AdminHttpError(
        400,
        `Unknown job state "${state.slice(0, 40)}": use one of ${JOB_STATES.join(', ')} (several separated by commas).`,
        'INVALID_FILTER',
      )
    }
    if (!states.includes(state as JobState)) states.push(state as JobState)
  }
  return states
}

/** Builds the core filter; throws a 400 for bad states or times. */
export function toJobFilter(fields: FilterFields): JobFilter {
  const filter: { -readonly [K in keyof JobFilter]: JobFilter[K] } = {}
  if (fields.queue) filter.queue = fields.queue
  if (fields.kind) filter.kind = fields.kind
  if (fields.schedule) filter.scheduleName = fields.schedule
  if (fields.key) filter.key = fields.key
  if (fields.uniqueKey) filter.uniqueKey = fields.uniqueKey
  if (fields.state) {
    const states = parseStates(fields.state)
    if (states.length > 0) filter.states = states
  }
  if (fields.q) filter.payloadContains = fields.q
  if (fields.from) filter.createdAfter = parseUtcTime(fields.from, 'from')
  if (fields.to) filter.createdBefore = parseUtcTime(fields.to, 'to')
  if (fields.minWeight) {
    if (!/^[1-9][0-9]{0,3}$|^10000$/.test(fields.minWeight))
      throw new AdminHttpError(
        400,
        `The minWeight "${fields.minWeight.slice(0, 20)}" is not valid: write a whole number from 1 to 10000.`,
        'INVALID_FILTER',
      )
    filter.minWeight = Number(fields.minWeight)
  }
  if (
    filter.createdAfter !== undefined &&
    filter.createdBefore !== undefined &&
    filter.createdAfter >= filter.createdBefore
  ) {
    throw new AdminHttpError(400, 'The "from" time must be before the "to" time.', 'INVALID_FILTER')
  }
  return filter
}

/** Only the non-empty filter fields. */
export function activeFields(fields: FilterFields): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of FILTER_FIELDS) {
    const value = fields[key]
    if (value) out[key] = value
  }
  return out
}

/** A query string (`?queue=a&state=failed`) for `fields` plus `extra`, or '' when empty. */
export function queryString(fields: FilterFields, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...activeFields(fields), ...extra })
  const text = params.toString()
  return text ? `?${text}` : ''
}

/** A short description of the filter for messages: `queue=emails, state=failed`. */
export function describeFilter(fields: FilterFields): string {
  const parts = Object.entries(activeFields(fields)).map(([k, v]) => `${k}=${v}`)
  return parts.length > 0 ? parts.join(', ') : 'no filter'
}

/** The filter of the JSON API: the page's fields, plus job ids and JSON containment of the payload. */
export interface ApiFilterFields extends Omit<FilterFields, 'state'> {
  /** States as a list (the API's bodies) or comma-separated (its query strings). */
  readonly state?: string
  readonly states?: readonly string[]
  /** Jobs whose payload contains this JSON value (`@>` on Postgres, the same rule in memory). */
  readonly payload?: JsonValue
  readonly ids?: readonly string[]
}

/** Builds the core filter of an API request; throws a 400 with code `INVALID_FILTER` for bad states or times. */
export function toApiJobFilter(fields: ApiFilterFields): JobFilter {
  const { states, payload, ids, ...rest } = fields
  const state = [rest.state, ...(states ?? [])].filter((s) => s !== undefined && s !== '').join(',')
  const filter: { -readonly [K in keyof JobFilter]: JobFilter[K] } = { ...toJobFilter({ ...rest, state }) }
  if (payload !== undefined) filter.payloadIncludes = payload
  if (ids !== undefined && ids.length > 0) filter.ids = [...new Set(ids)]
  return filter
}

/** True when the filter selects something narrower than every job. */
export function isNarrowFilter(filter: JobFilter): boolean {
  return Object.values(filter).some((v) => v !== undefined)
}
