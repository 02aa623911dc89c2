/**
 * A `JobFilter` as an SQL condition with bound parameters, matching the memory adapter's
 * `matchesJobFilter`: every given field must match, `createdAfter` is inclusive and `createdBefore`
 * exclusive, `payloadContains` is a case-insensitive substring of the payload's JSON text, and
 * `payloadIncludes` is `payload @> pattern` (no GIN index: one would slow every insert; the condition
 * filters the rows the other conditions and the id order select).
 */
import { type JobFilter, refuseKeyInStoreFilter } from '../../core/ports/store.js'
import { fromMs } from './sql-names.js'

/** Collects bound values and hands out their `$n` placeholders. */
export class SqlParams {
  readonly values: unknown[] = []

  /** Binds `value` and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

/** Escapes `%`, `_` and `\` for a LIKE pattern. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/**
 * Builds the condition over table alias `a` (`true` for an empty filter). PostgreSQL renders jsonb
 * as `{"a": 1, "b": 2}` (a space after `:` and `,`, keys by length), so a substring spanning JSON
 * punctuation may differ from the memory adapter's `JSON.stringify` text; values match the same.
 */
export function jobFilterSql(filter: JobFilter, a: string, params: SqlParams): string {
  refuseKeyInStoreFilter(filter)
  const conditions: string[] = []
  if (filter.ids !== undefined) conditions.push(`${a}.id = ANY(${params.add(filter.ids)}::bigint[])`)
  if (filter.queue !== undefined) conditions.push(`${a}.queue = ${params.add(filter.queue)}::text`)
  if (filter.kind !== undefined) conditions.push(`${a}.kind = ${params.add(filter.kind)}::text`)
  if (filter.states !== undefined) conditions.push(`${a}.state = ANY(${params.add(filter.states)}::text[])`)
  if (filter.createdAfter !== undefined)
    conditions.push(`${a}.created_at >= ${fromMs(params.add(filter.createdAfter))}`)
  if (filter.createdBefore !== undefined)
    conditions.push(`${a}.created_at < ${fromMs(params.add(filter.createdBefore))}`)
  if (filter.groupKey !== undefined) conditions.push(`${a}.group_key = ${params.add(filter.groupKey)}::text`)
  if (filter.uniqueKey !== undefined)
    conditions.push(`${a}.unique_key = ${params.add(filter.uniqueKey)}::text`)
  if (filter.scheduleName !== undefined)
    conditions.push(`${a}.schedule_name = ${params.add(filter.scheduleName)}::text`)
  if (filter.minWeight !== undefined) conditions.push(`${a}.weight >= ${params.add(filter.minWeight)}::int`)
  if (filter.payloadContains !== undefined) {
    conditions.push(`${a}.payload::text ILIKE ${params.add(`%${escapeLike(filter.payloadContains)}%`)}::text`)
  }
  if (filter.payloadIncludes !== undefined) {
    // Bound as JSON text: a bare string pattern would otherwise reach the server unquoted.
    conditions.push(`${a}.payload @> ${params.add(JSON.stringify(filter.payloadIncludes))}::jsonb`)
  }
  return conditions.length > 0 ? conditions.join(' AND ') : 'true'
}
