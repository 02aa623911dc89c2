/** Serving the admin page from the command line: the Fastify server, its address and its URL. */
import type { AddressInfo } from 'node:net'
import { createAdminServer } from '../admin/index.js'
import type { Queue } from '../core/ports/queue.js'
import { type AdminCredentials, isLoopback } from './admin-options.js'
import { CliError } from './errors.js'

/** A listening admin server. */
export interface RunningAdmin {
  /** The URL to open, e.g. `http://localhost:3000/`. */
  readonly url: string
  close(): Promise<void>
}

/** Starts the admin page for `queue`; `credentials: null` serves it without sign-in (loopback only). */
export async function serveAdmin(options: {
  readonly queue: Queue
  readonly host: string
  readonly port: number
  readonly credentials: AdminCredentials | null
  readonly readOnly: boolean
  readonly title?: string
  /** Bearer tokens that open the JSON API (`/api/v1`) without the page's sign-in. */
  readonly apiTokens?: readonly string[] | undefined
}): Promise<RunningAdmin> {
  const { credentials, host } = options
  if (credentials === null && !isLoopback(host)) {
    throw new CliError(`refusing to serve the admin page without a password on ${host}: give --password`)
  }
  const app = createAdminServer({
    queue: options.queue,
    readOnly: options.readOnly,
    ...(options.title ? { title: options.title } : {}),
    ...(options.apiTokens ? { apiTokens: options.apiTokens } : {}),
    ...(credentials === null
      ? { authorize: () => true }
      : { basicAuth: { username: credentials.username, password: credentials.password } }),
  })
  try {
    await app.listen({ port: options.port, host })
  } catch (error) {
    await app.close().catch(() => {})
    const code = (error as { code?: unknown }).code
    if (code === 'EADDRINUSE') {
      throw new CliError(`port ${options.port} on ${host} is already in use: choose another with --port`)
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CliError(`cannot listen on ${host}: no such local address (try --host localhost or 0.0.0.0)`)
    }
    throw error
  }
  const { port } = app.server.address() as AddressInfo
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return { url: `http://${shown}:${port}/`, close: () => app.close() }
}
