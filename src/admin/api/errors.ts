/**
 * The JSON API's one error shape, `{ "error": { "code", "message", "details"? } }`, for every
 * failure: the admin's own refusals, Conveyor errors, and Fastify's (bad JSON, body too large, wrong
 * content type, schema validation). A server error says nothing of its cause; the log has it.
 */
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import { editDistance } from '../../core/domain/edit-distance.js'
import { ConveyorError } from '../../core/domain/errors.js'
import { AdminHttpError } from '../errors.js'

/** An API error ready to send. */
export interface ApiError {
  readonly statusCode: number
  readonly code: string
  readonly message: string
  readonly details?: unknown
}

/** Status of each Conveyor error code the API may meet; others are server errors. */
const CONVEYOR_STATUS: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_OPTIONS: 400,
  JOB_NOT_FOUND: 404,
  JOB_KEY_NOT_FOUND: 404,
  AMBIGUOUS_JOB_KEY: 409,
  UNKNOWN_QUEUE: 404,
  JOB_NOT_WAITING: 409,
  INVALID_PAYLOAD: 422,
  INVALID_SCHEDULE: 422,
  UNKNOWN_JOB_KIND: 422,
  STORAGE_UNAVAILABLE: 503,
  STORAGE_INCONSISTENT: 503,
  SCHEMA_NOT_MIGRATED: 503,
  SCHEMA_TOO_NEW: 503,
}

/** Fastify's client errors, by their code. */
const FASTIFY_ERRORS: Readonly<Record<string, { statusCode: number; code: string; message: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    statusCode: 413,
    code: 'BODY_TOO_LARGE',
    message: 'The request body is too large: the API accepts at most 64 KiB.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    statusCode: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'The API accepts JSON bodies only: send Content-Type: application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    statusCode: 400,
    code: 'INVALID_JSON',
    message: 'The body is empty but Content-Type says JSON: send a JSON value, or no Content-Type.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    statusCode: 400,
    code: 'INVALID_JSON',
    message: 'The body is not valid JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    statusCode: 400,
    code: 'BAD_REQUEST',
    message: 'The Content-Length header does not match the body.',
  },
}

/** What to answer for `error`. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof AdminHttpError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message, details: error.details }
  }
  if (error instanceof ConveyorError) {
    const statusCode = CONVEYOR_STATUS[error.code]
    if (statusCode === 503) {
      return {
        statusCode,
        code: error.code,
        message: 'The job store is unavailable right now; try again in a moment.',
      }
    }
    if (statusCode !== undefined) {
      const issues = (error as { issues?: unknown }).issues
      const details =
        Array.isArray(issues) && issues.length > 0 ? { issues: issues.map(issueDto) } : undefined
      return { statusCode, code: error.code, message: error.message, details }
    }
  }
  const e = error as { code?: unknown; statusCode?: unknown; message?: unknown }
  const known = typeof e.code === 'string' ? FASTIFY_ERRORS[e.code] : undefined
  if (known !== undefined) return known
  if (error instanceof SyntaxError && e.statusCode === 400)
    return FASTIFY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY as ApiError
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { statusCode: e.statusCode, code: 'BAD_REQUEST', message: String(e.message) }
  }
  return {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    message: 'The request failed. The server log has the details.',
  }
}

/** A schema issue as JSON (paths of symbols become strings). */
function issueDto(issue: { message?: unknown; path?: readonly unknown[] }): {
  message: string
  path?: string[]
} {
  const path = issue.path?.map((p) => String(typeof p === 'object' && p !== null && 'key' in p ? p.key : p))
  return { message: String(issue.message), ...(path && path.length > 0 ? { path } : {}) }
}

/** Sends `error` in the API's shape (logging server errors). */
export function sendApiError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = toApiError(error)
  // Every server-side failure reaches the log (the client gets only the code and a short message):
  // an outage or an unmigrated schema must leave a trace for the operator.
  if (answer.statusCode >= 500) {
    if (answer.code === 'INTERNAL_ERROR')
      request.log.error({ err: error }, 'conveyor admin api: request failed')
    else request.log.warn({ err: error, code: answer.code }, 'conveyor admin api: request failed')
  }
  const body = {
    error: {
      code: answer.code,
      message: answer.message,
      ...(answer.details !== undefined ? { details: answer.details } : {}),
    },
  }
  return reply.code(answer.statusCode).type('application/json; charset=utf-8').send(body)
}

const WHERE: Readonly<Record<string, string>> = {
  body: 'body',
  querystring: 'query string',
  params: 'path',
  headers: 'headers',
}

/** One problem of a request, as `details.issues` lists it. */
interface SchemaIssue {
  /** The field's path, dotted (`options.delay`, `states.0`), or `(root)`. */
  readonly field: string
  /** What is wrong and what is accepted, to follow the field's name. */
  readonly message: string
  /** The accepted field names (an unknown field) or values (an enumeration). */
  readonly allowed?: readonly string[]
}

/**
 * Turns Ajv's errors into a 400 `VALIDATION_FAILED` that names the fields and what they accept: an
 * unknown field with the closest known one and the list of known ones, an enumeration with its values.
 * Ajv reports an unknown field twice (the `propertyNames` enum and `propertyNames` itself): once here.
 */
export function formatApiSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const seen = new Set<string>()
  const issues: SchemaIssue[] = []
  for (const e of errors) {
    if (e.keyword === 'propertyNames') continue // its `enum` error, which lists the known names, comes with it
    const issue = schemaIssue(e)
    const key = `${issue.field}\u0000${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    issues.push(issue)
  }
  // A `propertyNames` error alone (a schema other than `strictObject`'s) still names the field.
  if (issues.length === 0) for (const e of errors) issues.push(schemaIssue(e))
  const where = WHERE[dataVar] ?? dataVar
  const first = issues[0]
  const message = first
    ? `The ${where} is not valid: ${first.field} ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}.`
    : `The ${where} is not valid.`
  return new AdminHttpError(400, message, 'VALIDATION_FAILED', { in: where, issues: issues.slice(0, 20) })
}

/**
 * `error`, or, when it is a validation error reporting a required field missing from the body or
 * the query string, the error for the first field of that same part its schema does not list. Ajv
 * checks `required` before `propertyNames` and stops at the first error, so a misspelt required
 * field (`knd` for `kind`) was reported as the required one missing and its "did you mean" never
 * came. Only that report is replaced: Fastify's order (path, body, query string) and every other
 * error stay as Ajv gives them.
 */
export function preferUnknownField(error: unknown, request: FastifyRequest): unknown {
  const failed = error as { validation?: unknown; validationContext?: unknown } | null
  const first = Array.isArray(failed?.validation)
    ? (failed.validation[0] as { keyword?: unknown })
    : undefined
  if (first?.keyword !== 'required') return error
  const part = failed?.validationContext
  if (part !== 'body' && part !== 'querystring') return error
  const schema = request.routeOptions.schema?.[part]
  const unknown = unknownFieldError(schema, part === 'body' ? request.body : request.query)
  return unknown === undefined ? error : formatApiSchemaErrors([unknown], part)
}

/**
 * The first field of `value` that `schema` does not list (a `strictObject`, or one nested in its
 * `properties`), as the error Ajv gives for it, or undefined.
 */
export function unknownFieldError(
  schema: unknown,
  value: unknown,
  path = '',
): FastifySchemaValidationError | undefined {
  if (!isRecord(schema) || !isRecord(value) || Array.isArray(value)) return undefined
  const names = isRecord(schema.propertyNames) ? schema.propertyNames.enum : undefined
  const properties = isRecord(schema.properties) ? schema.properties : {}
  for (const key of Object.keys(value)) {
    if (Array.isArray(names) && !names.includes(key)) {
      return Object.assign(
        {
          keyword: 'enum',
          instancePath: path,
          schemaPath: '#/propertyNames/enum',
          params: { allowedValues: names },
          message: 'must be equal to one of the allowed values',
        },
        { propertyName: key },
      )
    }
    const property = Object.hasOwn(properties, key) ? properties[key] : undefined
    const nested = unknownFieldError(property, value[key], `${path}/${key}`)
    if (nested !== undefined) return nested
  }
  return undefined
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function schemaIssue(e: FastifySchemaValidationError): SchemaIssue {
  const base = e.instancePath.replace(/^\//, '').replaceAll('/', '.')
  const missing = typeof e.params?.missingProperty === 'string' ? e.params.missingProperty : undefined
  // A `propertyNames` failure names the unknown field on the error (Ajv) or in its params.
  const unknownName = (e as { propertyName?: unknown }).propertyName ?? e.params?.propertyName
  const unknown = typeof unknownName === 'string' ? unknownName : undefined
  const field = [base, missing ?? unknown].filter(Boolean).join('.') || '(root)'
  const allowedValues = e.params?.allowedValues
  const allowed = Array.isArray(allowedValues) ? allowedValues.map(String) : undefined
  if (unknown !== undefined) {
    if (allowed === undefined) return { field, message: 'is not a known field' }
    const near = closestName(unknown, allowed)
    return {
      field,
      message: `is not a known field${near ? ` (did you mean ${near}?)` : ''}; known fields: ${allowed.join(', ')}`,
      allowed,
    }
  }
  if (e.keyword === 'required') return { field, message: 'is required' }
  if (e.keyword === 'enum' && allowed !== undefined)
    return { field, message: `must be one of ${allowed.join(', ')}`, allowed }
  return { field, message: e.message ?? 'is not valid' }
}

/**
 * The known name a misspelt `name` most likely meant: one that contains it or is contained in it
 * (`delay` for `delayMs`, `state` for `workflowState`), else one a few edits away; undefined if none.
 */
function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  const containing = known.filter((k) => {
    const other = k.toLowerCase()
    return Math.min(lower.length, other.length) >= 3 && (other.includes(lower) || lower.includes(other))
  })
  if (containing.length > 0) {
    return containing.reduce((best, k) =>
      Math.abs(k.length - name.length) < Math.abs(best.length - name.length) ? k : best,
    )
  }
  const limit = Math.max(1, Math.floor(name.length / 3))
  let best: { name: string; distance: number } | undefined
  for (const k of known) {
    const distance = editDistance(lower, k.toLowerCase())
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: k, distance }
  }
  return best?.name
}
