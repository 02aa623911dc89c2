/**
 * The admin plugin's options, checked once at registration, and the resolved settings every route
 * shares.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { InvalidOptionsError } from '../core/domain/errors.js'
import { isJobDefinition, type JobDefinition } from '../core/domain/job-definition.js'
import type { Queue } from '../core/ports/queue.js'

/** Decides, per request, whether something holds (may be async). */
export type RequestCheck = (request: FastifyRequest) => boolean | Promise<boolean>

/** Decides whether a bearer token sent to the JSON API is valid (may be async). */
export type ApiTokenCheck = (token: string, request: FastifyRequest) => boolean | Promise<boolean>

/** Options of `adminPlugin`. */
export interface AdminOptions {
  /** The queue to show and manage; the plugin only calls the public `Queue` API and opens no pool. */
  readonly queue: Queue
  /**
   * Called before every request: `true` lets it through; `false` answers 403 on the pages and 401 on
   * the JSON API. API requests with a valid `apiTokens` token skip it. Required, so that the page is
   * never public by accident; pass `() => true` only when something in front already checks.
   */
  readonly authorize: RequestCheck
  /** Hide every action and refuse them with 403 (for everyone, or for the requests where it returns true). */
  readonly readOnly?: boolean | RequestCheck
  /**
   * Key of the CSRF tokens and flash messages, at least 32 characters. Default: random per process,
   * so give one when several processes serve the page behind a load balancer.
   */
  readonly secret?: string | Buffer
  /** Heading of every page (default `Conveyor`). */
  readonly title?: string
  /** Live refresh period of the pages in ms; 0 turns live refresh off (default 5000). */
  readonly refreshIntervalMs?: number
  /** Jobs per page of the job list (default 50, at most 500). */
  readonly pageSize?: number
  /**
   * Recent jobs read per queue to estimate jobs per minute and lag on the overview (default 500; 0
   * turns these columns off). Larger is more exact on busy queues and costs more per page load.
   */
  readonly sampleSize?: number
  /**
   * Serves `GET /metrics` (behind `authorize`) with this renderer, e.g. `metricsHandler(registry)`
   * from `conveyor-jobs/metrics`. Absent: no metrics route.
   */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>
  /**
   * Tokens of machine clients of the JSON API (`Authorization: Bearer <token>`), each at least 32
   * characters, or a function that checks a token. A request with a valid token is authorized for
   * `/api/v1/...` without `authorize` and needs no CSRF token. Absent: only `authorize` lets API calls in.
   */
  readonly apiTokens?: readonly string[] | ApiTokenCheck
  /**
   * Job definitions the JSON API validates payloads with (job updates, schedules). A kind not listed
   * here falls back to the definition registered on the queue; a kind found in neither is refused.
   */
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any payload type are accepted
  readonly jobs?: readonly JobDefinition<any>[]
  /**
   * What the 422 `UNKNOWN_JOB_KIND` answer tells to do, after naming the kind (default: add its
   * definition to `jobs`, or register a handler for it on the queue). A server that cannot be given
   * definitions (`conveyor admin`) says how to get them instead.
   */
  readonly unknownKindAdvice?: string
}

/** The settings the routes share, resolved from `AdminOptions`. */
export interface AdminSettings {
  readonly queue: Queue
  readonly authorize: RequestCheck
  readonly readOnly: RequestCheck
  readonly secret: Buffer
  readonly title: string
  readonly refreshIntervalMs: number
  readonly pageSize: number
  readonly sampleSize: number
  /** Checks a bearer token of the JSON API; null when machine tokens are off. */
  readonly checkApiToken: ApiTokenCheck | null
  /** The `jobs` option by kind. */
  readonly jobs: ReadonlyMap<string, JobDefinition<unknown>>
  /** The `unknownKindAdvice` option, or null for the default advice. */
  readonly unknownKindAdvice: string | null
}

const QUEUE_METHODS = [
  'listJobs',
  'getJob',
  'retryJobs',
  'cancelJobs',
  'deleteJobs',
  'pauseQueue',
  'resumeQueue',
  'stats',
  'listSchedules',
] as const

/** Checks the options and fills in defaults, throwing `InvalidOptionsError` that says what is wrong. */
export function resolveAdminOptions(options: AdminOptions): AdminSettings {
  const fail = (message: string): never => {
    throw new InvalidOptionsError(`adminPlugin: ${message}`)
  }
  if (typeof options !== 'object' || options === null) fail('options are required ({ queue, authorize })')
  const queue = options.queue as Partial<Queue> | undefined
  if (
    typeof queue !== 'object' ||
    queue === null ||
    QUEUE_METHODS.some((m) => typeof queue[m] !== 'function') ||
    typeof queue.clock?.now !== 'function'
  ) {
    fail('`queue` must be a Conveyor queue (from createPostgresQueue or createMemoryQueue)')
  }
  if (typeof options.authorize !== 'function') {
    fail(
      '`authorize(request)` is required so the page is never public by accident; return true for requests that may see it (pass `() => true` only when something in front of it already authenticates)',
    )
  }
  const readOnly = options.readOnly ?? false
  if (typeof readOnly !== 'boolean' && typeof readOnly !== 'function') {
    fail('`readOnly` must be a boolean or a function of the request')
  }
  let secret: Buffer
  if (options.secret === undefined) secret = randomBytes(32)
  else {
    secret = Buffer.isBuffer(options.secret) ? options.secret : Buffer.from(String(options.secret), 'utf8')
    if (secret.length < 32) fail('`secret` must be at least 32 characters long')
  }
  const title = options.title ?? 'Conveyor'
  if (typeof title !== 'string' || title.length === 0 || title.length > 100) {
    fail('`title` must be a string of 1 to 100 characters')
  }
  return {
    queue: options.queue,
    authorize: options.authorize,
    readOnly: typeof readOnly === 'boolean' ? () => readOnly : readOnly,
    secret,
    title,
    refreshIntervalMs: refreshOption(options.refreshIntervalMs, fail),
    pageSize: intOption(options.pageSize, 'pageSize', 50, 1, 500, fail),
    sampleSize: intOption(options.sampleSize, 'sampleSize', 500, 0, 10_000, fail),
    checkApiToken: apiTokensOption(options.apiTokens, fail),
    jobs: jobsOption(options.jobs, fail),
    unknownKindAdvice: adviceOption(options.unknownKindAdvice, fail),
  }
}

function adviceOption(value: unknown, fail: (message: string) => never): string | null {
  if (value === undefined) return null
  if (typeof value !== 'string' || value.trim() === '') fail('`unknownKindAdvice` must be a non-empty string')
  return value
}

/** What an API token must look like (it travels in an `Authorization: Bearer` header). */
export const API_TOKEN_RULE =
  'must be 32 to 512 printable ASCII characters without spaces (e.g. 32 random bytes in hex: openssl rand -hex 32)'

/** True for a string that can be an API token (see `API_TOKEN_RULE`). */
export function isApiToken(token: unknown): token is string {
  return typeof token === 'string' && /^[\x21-\x7e]{32,512}$/.test(token)
}

function apiTokensOption(
  value: AdminOptions['apiTokens'],
  fail: (message: string) => never,
): ApiTokenCheck | null {
  if (value === undefined) return null
  if (typeof value === 'function') return value
  if (!Array.isArray(value) || value.length === 0) {
    fail('`apiTokens` must be a non-empty array of tokens or a function (token, request) => boolean')
  }
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest()
  const expected = value.map((token: unknown, index) => {
    if (!isApiToken(token)) fail(`\`apiTokens[${index}]\` ${API_TOKEN_RULE}`)
    return digest(token as string)
  })
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  return (token) => {
    const given = digest(token)
    let found = false
    for (const candidate of expected) found = timingSafeEqual(candidate, given) || found
    return found
  }
}

function jobsOption(
  value: AdminOptions['jobs'],
  fail: (message: string) => never,
): ReadonlyMap<string, JobDefinition<unknown>> {
  const byKind = new Map<string, JobDefinition<unknown>>()
  if (value === undefined) return byKind
  if (!Array.isArray(value)) fail('`jobs` must be an array of job definitions made with defineJob()')
  value.forEach((job: unknown, index) => {
    const kind = (job as { kind?: unknown } | null)?.kind
    if (!isJobDefinition(job)) {
      fail(`\`jobs[${index}]\` is not a job definition: make it with defineJob({ kind, schema })`)
    }
    if (byKind.has(kind as string)) fail(`\`jobs\` lists the kind ${JSON.stringify(kind)} twice`)
    byKind.set(kind as string, job as JobDefinition<unknown>)
  })
  return byKind
}

function refreshOption(value: number | undefined, fail: (message: string) => never): number {
  const ms = intOption(value, 'refreshIntervalMs', 5000, 0, 3_600_000, fail)
  if (ms > 0 && ms < 1000) fail('`refreshIntervalMs` must be 0 (off) or at least 1000')
  return ms
}

function intOption(
  value: number | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
  fail: (message: string) => never,
): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`\`${name}\` must be an integer from ${min} to ${max}; got ${String(value)}`)
  }
  return value
}
