/**
 * Shared set-up of the admin tests: a queue on each adapter (memory always, PostgreSQL when a
 * database is found), an app with the plugin, and a cookie-keeping client over `app.inject()`.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { adminPlugin } from '../../src/admin/index.js'
import type { AdminOptions } from '../../src/admin/options.js'
import type { QueueOptions } from '../../src/core/config/queue-options.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { NewJob } from '../../src/core/ports/store.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { newJobBuilder } from '../support/new-job.js'

/** The start time of test clocks: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1)

/** A fresh queue on a manual clock, and how to let go of it. */
export interface TestQueue {
  readonly queue: CoreQueue
  readonly clock: ManualClock
  close(): Promise<void>
}

/** One adapter to run the route tests on. */
export interface AdapterCase {
  readonly name: string
  /** Why this adapter's tests are skipped, or null. */
  readonly skip: string | null
  create(start?: number, options?: Omit<QueueOptions, 'clock'>): Promise<TestQueue>
}

const database = await provideDatabase()

/** The memory adapter, and PostgreSQL on a fresh schema per queue (skipped without a database). */
export const adapters: readonly AdapterCase[] = [
  {
    name: 'memory',
    skip: null,
    async create(start = T0, options = {}) {
      const clock = new ManualClock(start)
      const queue = createMemoryQueue({ ...options, clock })
      return { queue, clock, close: () => queue.shutdown({ graceMs: 0 }) }
    },
  },
  {
    name: 'postgres',
    skip: 'skip' in database ? database.skip : null,
    async create(start = T0, options = {}) {
      if ('skip' in database) throw new Error(database.skip)
      const clock = new ManualClock(start)
      const pool = new pg.Pool({ connectionString: database.url, max: 4 })
      const schema = createTestSchema(database.url, 'conveyor_admin')
      const queue = createPostgresQueue({ ...options, pool, schema: schema.schema, clock })
      await queue.migrate()
      return {
        queue,
        clock,
        async close() {
          try {
            await queue.shutdown({ graceMs: 0 })
            await schema.drop()
          } finally {
            await pool.end()
          }
        },
      }
    },
  },
]

for (const adapter of adapters) {
  if (adapter.skip) console.warn(`[admin tests on ${adapter.name} skipped] ${adapter.skip}`)
}

/** An app with the admin plugin under `prefix` (default `/admin`), open to every request unless told. */
export async function adminApp(
  queue: CoreQueue,
  options: Partial<AdminOptions> & { prefix?: string } = {},
): Promise<FastifyInstance> {
  const { prefix = '/admin', ...rest } = options
  const app = Fastify()
  await app.register(adminPlugin, { queue, authorize: () => true, refreshIntervalMs: 0, ...rest, prefix })
  await app.ready()
  return app
}

/** A browser-like client over `inject`: keeps cookies, finds the CSRF token, follows redirects on request. */
export class Client {
  readonly cookies = new Map<string, string>()
  /** The CSRF token of the last page that had forms. */
  token = ''

  constructor(
    readonly app: FastifyInstance,
    readonly headers: Record<string, string> = {},
  ) {}

  /** GET `url` with the kept cookies. */
  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({ method: 'GET', url, headers: this.#headers(headers) })
    this.#keep(response)
    return response
  }

  /** POSTs a form; `_csrf` defaults to the token of the last page with forms. */
  async post(
    url: string,
    fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams({ _csrf: this.csrf(), ...fields }).toString()
    const response = await this.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: this.#headers({ 'content-type': 'application/x-www-form-urlencoded', ...headers }),
    })
    this.#keep(response)
    return response
  }

  /** POSTs a confirmed form and loads the page it redirects to (where the flash message shows). */
  async act(
    url: string,
    fields: Record<string, string> = {},
  ): Promise<{ status: number; flash: string | null }> {
    const response = await this.post(url, { confirmed: '1', ...fields })
    if (response.statusCode !== 303)
      throw new Error(`expected a redirect, got ${response.statusCode}: ${response.body}`)
    const page = await this.get(String(response.headers.location))
    return { status: page.statusCode, flash: flashOf(page.body) }
  }

  /** The CSRF token of the last page that had forms ('' when none did). */
  csrf(): string {
    return this.token
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    return { ...this.headers, ...(cookie ? { cookie } : {}), ...extra }
  }

  #keep(response: LightMyRequestResponse): void {
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1]
    if (token) this.token = token
    for (const c of response.cookies) {
      if (c.value === '' || c.maxAge === 0) this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
  }
}

/** The flash message's text on a page, or null. */
export function flashOf(body: string): string | null {
  const match = /<div class="flash (?:ok|error)" role="status">([^<]*)<\/div>/.exec(body)
  return match?.[1] ?? null
}

/** The job ids listed on a job list page, in order. */
export function listedIds(body: string): string[] {
  return [...body.matchAll(/<td class="mono"><a href="[^"]*\/jobs\/(\d+)">/g)].map((m) => m[1] ?? '')
}

const buildJob = newJobBuilder({})

/** A job to insert straight into the store (for fields enqueue does not set, such as trace context). */
export function newJob(fields: Partial<NewJob> & { runAt: number }): NewJob {
  return buildJob(fields)
}
