/** Serving the admin page from the command line: the Fastify server, its address and its URL. */
import { lookup } from 'node:dns/promises'
import { type AddressInfo, createServer, type Server } from 'node:net'
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

/**
 * Holds `port` on every address `host` names (as the admin server will listen) until `release()`,
 * so a command can fail on a busy port before it writes anything. Port 0 needs no reservation.
 */
export async function reservePort(host: string, port: number): Promise<{ release(): Promise<void> }> {
  if (port === 0) return { release: async () => {} }
  const servers: Server[] = []
  const release = async () => {
    const open = servers.splice(0)
    await Promise.all(open.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  }
  try {
    const addresses = await lookup(host, { all: true }).catch((error: unknown) => {
      throw listenProblem(error, host, port)
    })
    for (const address of new Set(addresses.map((a) => a.address))) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port, host: address, exclusive: true }, resolve)
      })
    }
  } catch (error) {
    await release()
    throw listenProblem(error, host, port)
  }
  return { release }
}

/** A listen error as a message that says which flag to change. */
function listenProblem(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown }).code
  if (code === 'EADDRINUSE') {
    return new CliError(`port ${port} on ${host} is already in use: choose another with --port`)
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new CliError(`cannot listen on ${host}: no such local address (try --host localhost or 0.0.0.0)`)
  }
  if (code === 'EACCES') {
    return new CliError(`not allowed to listen on port ${port}: choose a port above 1023 with --port`)
  }
  return error
}

/**
 * What the admin served from the command line answers for a kind it has no definition of: the
 * command line has none of the application's (the demo has only its own), so it cannot validate
 * payloads to enqueue, schedule or change; the application can, by mounting the plugin itself.
 */
export const CLI_UNKNOWN_KIND_ADVICE =
  'this admin server was started by the `conveyor` command line, which has no job definitions of your application, so its API cannot enqueue jobs, put schedules or change payloads; to do that, mount adminPlugin in your application with its `jobs` option (see the README, Admin page); every other action works here'

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
    unknownKindAdvice: CLI_UNKNOWN_KIND_ADVICE,
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
    throw listenProblem(error, host, options.port)
  }
  const { port } = app.server.address() as AddressInfo
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return { url: `http://${shown}:${port}/`, close: () => app.close() }
}
