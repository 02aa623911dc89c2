/**
 * JSON schemas of the routes' inputs, and the wording of validation errors: a bad query string or
 * form answers 400 with a message that names the field and says what it accepts.
 */
import type { FastifySchemaValidationError } from 'fastify'

/** A queue, kind or schedule name as the core accepts it; empty means "any". */
const NAME_PATTERN = '^([A-Za-z0-9_][A-Za-z0-9_.:-]{0,127})?$'

/** A job id (a decimal string); empty means "none". */
export const ID_PATTERN = '^[0-9]{1,19}$'

const name = { type: 'string', maxLength: 128, pattern: NAME_PATTERN } as const

/** The job list's filter fields, shared by the list's query string and the bulk action forms. */
export const filterProperties = {
  queue: name,
  kind: name,
  schedule: name,
  key: { type: 'string', maxLength: 512 },
  uniqueKey: { type: 'string', maxLength: 512 },
  state: { type: 'string', maxLength: 100 },
  q: { type: 'string', maxLength: 200 },
  from: { type: 'string', maxLength: 40 },
  to: { type: 'string', maxLength: 40 },
  minWeight: { type: 'string', maxLength: 5 },
} as const

/** Query string of the job list. */
export const jobListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterProperties,
    before: { type: 'string', maxLength: 19, pattern: '^[0-9]{0,19}$' },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
  },
} as const

/** Fields every action form posts. */
const formProperties = {
  _csrf: { type: 'string', maxLength: 200 },
  back: { type: 'string', maxLength: 2000 },
  confirmed: { type: 'string', maxLength: 1 },
} as const

/** Body of the single-job and queue actions. */
export const actionBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: formProperties,
} as const

/** Body of the job page's change form: workflow state (JSON text) and the schedule's expression. */
export const editBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...formProperties,
    workflowState: { type: 'string', maxLength: 100_000 },
    expression: { type: 'string', maxLength: 1000 },
  },
} as const

/** Body of the bulk actions: the form fields and the filter. */
export const bulkBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { ...formProperties, ...filterProperties },
} as const

/** Every HTML page: a string body. */
export const htmlResponse = { type: 'string', description: 'HTML page' } as const

/** Every action's answer: a redirect (or, to confirm a destructive action, an HTML page). */
export const actionResponses = {
  200: { type: 'string', description: 'confirmation page' },
  303: { type: 'null', description: 'redirect back with a flash message' },
} as const

const FIELD_HELP: Readonly<Record<string, string>> = {
  queue: "a queue name (1-128 letters, digits, '_', '-', '.' or ':')",
  kind: "a job kind (1-128 letters, digits, '_', '-', '.' or ':')",
  schedule: "a schedule name (1-128 letters, digits, '_', '-', '.' or ':')",
  key: 'a job name: the unique key it was enqueued with, at most 512 characters',
  uniqueKey: 'a unique key, at most 512 characters',
  state: 'a comma-separated list of job states',
  q: 'text to find in payloads, at most 200 characters',
  from: 'a UTC time such as 2030-01-01T09:30',
  to: 'a UTC time such as 2030-01-01T09:30',
  before: 'a job id (digits only)',
  limit: 'a whole number from 1 to 500',
  id: 'a job id (digits only)',
  action: 'one of the listed actions',
  workflowState: 'JSON text of at most 100000 characters',
  expression: 'a schedule expression of at most 1000 characters',
}

/** Turns Ajv's errors into one sentence per request: which field is wrong and what it accepts. */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0]
  const where =
    dataVar === 'querystring' ? 'query parameter' : dataVar === 'params' ? 'path part' : 'form field'
  const field =
    first?.instancePath.replace(/^\//, '') ||
    (typeof first?.params?.missingProperty === 'string' ? first.params.missingProperty : '')
  const help = FIELD_HELP[field]
  const problem = first?.keyword === 'maxLength' ? 'is too long' : 'is not valid'
  const message = field
    ? `The ${where} "${field}" ${problem}${help ? `: expected ${help}` : ''}.`
    : `The ${where}s are not valid (${first?.message ?? 'unknown problem'}).`
  return Object.assign(new Error(message), { statusCode: 400, adminMessage: message })
}
