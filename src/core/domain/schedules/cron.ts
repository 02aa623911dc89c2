/**
 * Cron expressions (five fields, six with seconds, or an alias), evaluated in a time zone with
 * cron-parser.
 */
import { createRequire } from 'node:module'
import type { CronExpressionParser } from 'cron-parser'
import { InvalidScheduleError } from '../errors.js'
import type { ScheduleExpression } from './expression.js'
import { parseIntervalParts } from './interval.js'
import { checkInstant } from './time-units.js'

/**
 * Cron aliases mapped to the five-field expressions they stand for: midnight-aligned, as in cron
 * (qron reads `@monthly` as `@every 1 month` from creation; write that to get it).
 */
const CRON_ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
  '@minutely': '* * * * *',
}

const requireFromHere = createRequire(import.meta.url)

/**
 * cron-parser, loaded on the first cron expression instead of at import: it and luxon cost a worker
 * several MB of RSS, and most processes never parse a cron. `require` (its CommonJS entry) keeps parsing
 * synchronous; Node caches the module, so later calls only look it up.
 */
function cronParser(): typeof CronExpressionParser {
  return (requireFromHere('cron-parser') as { CronExpressionParser: typeof CronExpressionParser })
    .CronExpressionParser
}

const FIVE_FIELD_NAMES = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const
const SIX_FIELD_NAMES = ['second', ...FIVE_FIELD_NAMES] as const

/** A cron expression (or alias) as a `ScheduleExpression`, evaluated in `timezone`. */
export function cronExpression(source: string, expression: string, timezone: string): ScheduleExpression {
  let cron = source
  if (source.startsWith('@')) {
    const alias = CRON_ALIASES[source.toLowerCase()]
    if (alias === undefined) {
      throw new InvalidScheduleError(
        expression,
        `unknown directive ${JSON.stringify(source.split(/\s+/)[0])}; use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @minutely, @every <interval>, @after <interval> or @at <timestamp>`,
      )
    }
    cron = alias
  }
  const fields = cron.split(/\s+/)
  if (fields.length !== 5 && fields.length !== 6) {
    throw new InvalidScheduleError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds, got ${fields.length}${intervalHint(fields)}`,
    )
  }
  cron = fields.join(' ')
  // cron-parser draws `H` values from a random seed unless given one; seed with the expression so
  // every process (and every call) computes the same ticks.
  const parser = cronParser()
  const parse = (currentDate: Date) => parser.parse(cron, { currentDate, tz: timezone, hashSeed: cron })

  try {
    // Parsing and finding one tick rejects field errors and expressions that can never fire.
    parse(new Date(0)).next()
  } catch (cause) {
    throw new InvalidScheduleError(
      expression,
      describeCronError(fields, timezone, cause) + intervalHint(fields),
      {
        cause,
      },
    )
  }

  return Object.freeze({
    source,
    type: 'cron' as const,
    recurring: true,
    timezone,
    nextTick(afterMs: number, _anchorMs: number): number | null {
      checkInstant('afterMs', afterMs)
      try {
        return parse(new Date(afterMs)).next().getTime()
      } catch (cause) {
        // cron-parser gives up after a bounded search; near the end of the Date range there is no tick.
        if (cause instanceof Error && /loop limit/i.test(cause.message)) return null
        throw cause
      }
    },
  })
}

/** Names the field cron-parser rejected by parsing each field on its own. */
/**
 * For an interval written without its directive (`every 5 minutes`, `5 minutes`, `after 2 days`),
 * read as cron fields: the expression to write instead; else ''.
 */
function intervalHint(fields: readonly string[]): string {
  const [first = '', ...rest] = fields
  const word = first.toLowerCase()
  const directive = word === 'every' || word === 'after' ? word : null
  const interval = (directive === null ? fields : rest).join(' ')
  const what = directive === 'after' ? 'to run once after an interval' : 'to repeat at an interval'
  if (interval !== '' && isInterval(interval))
    return `; ${what}, write "@${directive ?? 'every'} ${interval}"`
  if (directive !== null) return `; ${what}, write "@${directive} <interval>" (e.g. "@${directive} 1 day")`
  return ''
}

function isInterval(text: string): boolean {
  try {
    parseIntervalParts(text, text)
    return true
  } catch {
    return false
  }
}

function describeCronError(fields: readonly string[], timezone: string, cause: unknown): string {
  const detail = cause instanceof Error ? cause.message : String(cause)
  const names = fields.length === 6 ? SIX_FIELD_NAMES : FIVE_FIELD_NAMES
  const parser = cronParser()
  for (let i = 0; i < fields.length; i++) {
    const alone = fields.map((field, j) => (j === i ? field : '*')).join(' ')
    try {
      parser.parse(alone, { currentDate: new Date(0), tz: timezone, hashSeed: alone })
    } catch (fieldCause) {
      const raw = fieldCause instanceof Error ? fieldCause.message : String(fieldCause)
      // cron-parser reports unknown words by their first three letters ("cannot resolve alias \"ext\"").
      const fieldDetail = /cannot resolve alias/i.test(raw) ? 'not a number, range, step or known name' : raw
      return `invalid ${names[i]} field ${JSON.stringify(fields[i])} (${fieldDetail})`
    }
  }
  if (/explicit day of month/i.test(detail)) {
    return 'the day-of-month never occurs in the given month(s), e.g. 30 February'
  }
  if (/loop limit/i.test(detail)) return 'the expression never matches a date'
  return `invalid cron expression (${detail})`
}
