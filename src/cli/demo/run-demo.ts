/**
 * The demo's life: open the database, migrate, register the example kinds, enqueue a first batch
 * (only into an empty database), start the workers and the admin page, keep enqueueing a trickle of
 * jobs with a report line every few seconds, and stop gracefully at Ctrl-C.
 */
import { createPostgresQueue, type PostgresQueue } from '../../adapters/postgres/index.js'
import type { Logger } from '../../core/ports/logger.js'
import type { AdminCredentials } from '../admin-options.js'
import { reservePort, serveAdmin } from '../admin-server.js'
import type { CommandContext } from '../command.js'
import { type OpenDatabase, openDatabase, prepareEmbedded } from '../database.js'
import type { DatabaseSettings } from '../database-settings.js'
import { applyMigrations } from '../migrations.js'
import type { Output } from '../output.js'
import { formatCount, startProgress } from '../progress.js'
import { trackActivity } from './activity.js'
import { DEMO_QUEUES, randomDemoJobs, registerDemoJobs } from './jobs.js'

/** What the `demo` command's flags decided. */
export interface DemoOptions {
  readonly database: DatabaseSettings
  readonly host: string
  readonly port: number
  /** Jobs to enqueue at start when the schema has none. */
  readonly seed: number
  /** Jobs to enqueue each second while running. */
  readonly rate: number
  /** Basic-auth credentials of the admin page, or null to serve it without sign-in (loopback only). */
  readonly credentials: AdminCredentials | null
}

const REPORT_EVERY_MS = 3000
const SHUTDOWN_GRACE_MS = 3000

/** Runs the demo until SIGINT or SIGTERM; resolves to the exit code. */
export async function runDemo(options: DemoOptions, context: CommandContext): Promise<number> {
  const { output } = context
  const { credentials, rate } = options
  // Nothing is written (no folder, no migration, no job) before the port is known to be free.
  const port = await reservePort(options.host, options.port)
  let db: OpenDatabase
  try {
    if (options.database.kind === 'embedded') {
      await prepareEmbedded(options.database.dataDir, options.database.create)
    }
    output.line('Conveyor demo')
    if (options.database.kind === 'embedded') {
      output.line(
        `Starting the embedded PostgreSQL in ${options.database.dataDir} (set DATABASE_URL to use a server)...`,
      )
    }
    db = await openDatabase(options.database, 10)
  } catch (error) {
    await port.release()
    throw error
  }
  context.useTarget(db.target)
  const schema = db.target.schema
  const queue = createPostgresQueue({
    pool: db.pool,
    schema,
    queues: DEMO_QUEUES,
    pollIntervalMs: 200,
    // Claim only what runs now, so the admin page's "running" counts are jobs really running.
    prefetch: 0,
    shutdownGraceMs: SHUTDOWN_GRACE_MS,
    logger: warningsTo(output),
  })
  const timers: NodeJS.Timeout[] = []
  let admin: { close(): Promise<void> } | null = null
  try {
    output.line(`Database: ${db.description}, schema "${schema}"`)
    await applyMigrations(db.pool, schema, output)
    await registerDemoJobs(queue)
    const existing = (await queue.stats()).reduce(
      (sum, s) => sum + Object.values(s.counts).reduce((a, b) => a + b, 0),
      0,
    )
    if (existing > 0) output.line(`Found ${formatCount(existing)} jobs from an earlier run.`)
    else await enqueueSeed(queue, options.seed, output)
    await queue.start()
    await port.release()
    const running = await serveAdmin({ ...options, queue, readOnly: false, title: 'Conveyor demo' })
    admin = running
    output.line('')
    output.line(`Admin page: ${running.url}`)
    if (credentials?.generated) {
      output.line(`Sign in as "${credentials.username}" with the password ${credentials.password}`)
    } else if (credentials) output.line(`Sign in as "${credentials.username}".`)
    output.line(
      `Workers run the queues default (emails, webhooks, a clean-up every 10 s) and reports (slow); ${rate} new job${rate === 1 ? '' : 's'} a second.`,
    )
    output.line('Press Ctrl-C to stop.')
    output.line('')

    const activity = trackActivity(queue, output)
    let warned = false
    timers.push(
      setInterval(() => {
        if (rate === 0) return
        queue.enqueueMany(randomDemoJobs(rate)).catch((error: unknown) => {
          if (!warned) output.error(`warning: enqueueing failed: ${(error as Error).message}`)
          warned = true
        })
      }, 1000),
      setInterval(() => void activity.report().catch(() => {}), REPORT_EVERY_MS),
    )
    const signal = await context.untilStopped()
    output.line(
      `Received ${signal}: stopping (running jobs get ${SHUTDOWN_GRACE_MS / 1000} s to finish, then go back to the queue)...`,
    )
    for (const t of timers) clearInterval(t)
    await running.close()
    admin = null
    await queue.shutdown()
    activity.stop()
    output.line('Stopped.')
    return 0
  } finally {
    await port.release()
    for (const t of timers) clearInterval(t)
    await admin?.close().catch(() => {})
    await queue.shutdown().catch(() => {})
    await db.close()
  }
}

/** Enqueues the first batch in chunks, with a counter. */
async function enqueueSeed(queue: PostgresQueue, total: number, output: Output): Promise<void> {
  if (total === 0) return
  const progress = startProgress(output, 'Enqueueing example jobs:', total)
  const chunk = Math.max(10, Math.min(1000, Math.ceil(total / 50)))
  for (let done = 0; done < total; ) {
    const count = Math.min(chunk, total - done)
    await queue.enqueueMany(randomDemoJobs(count))
    done += count
    progress.update(done)
  }
  progress.finish(`Enqueued ${formatCount(total)} example jobs.`)
}

/** A logger that prints the queue's warnings and errors (not its per-job lines) to standard error. */
function warningsTo(output: Output): Logger {
  const print = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const error = fields?.error
    output.error(`${level}: ${message}${error instanceof Error ? `: ${error.message}` : ''}`)
  }
  return { debug: () => {}, info: () => {}, warn: print('warning'), error: print('error') }
}
