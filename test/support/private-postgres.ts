/**
 * A private PostgreSQL cluster for fault tests: its own data directory, port and socket directory,
 * so a test can restart or stop the server without disturbing other test files that share the
 * machine's server. Needs the PostgreSQL server binaries (`initdb`, `pg_ctl`); when they are missing
 * the caller gets a reason to skip instead.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A running private cluster and how to restart, stop and remove it. */
export interface PrivatePostgres {
  /** Connection string (user `postgres`, database `postgres`, trust auth, TCP on 127.0.0.1). */
  readonly url: string
  readonly port: number
  /** Restarts the server (`fast`: clean shutdown; `immediate`: like a crash, recovery on start). */
  restart(mode?: 'fast' | 'immediate'): Promise<void>
  /** Stops the server (it stays stopped until `start()`). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  /** Starts a stopped server and waits until it accepts connections. */
  start(): Promise<void>
  /** Stops the server if it runs and deletes its directory; safe to call twice. */
  destroy(): Promise<void>
}

/** The directory of `initdb` and `pg_ctl`, or null when no PostgreSQL server is installed. */
export function findPostgresBinaries(): string | null {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return null
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')) && existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : null
}

/** Why a private cluster cannot be started here, or null when it can. */
export function privatePostgresSkipReason(): string | null {
  if (!findPostgresBinaries())
    return 'No PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql: install the Debian package postgresql to run the database fault tests.'
  if (process.getuid?.() === 0) {
    // initdb refuses to run as root; the cluster then belongs to the postgres user.
    return existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser')
      ? null
      : 'Running as root without runuser: cannot run initdb as the postgres user.'
  }
  return null
}

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Creates, configures and starts a private cluster (a few seconds: initdb plus start). */
export async function startPrivatePostgres(
  settings: { maxConnections?: number } = {},
): Promise<PrivatePostgres> {
  const bin = findPostgresBinaries()
  if (!bin) throw new Error(privatePostgresSkipReason() ?? 'no PostgreSQL binaries')
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-pg-'))
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args)
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const port = await freePort()
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    `-c max_connections=${settings.maxConnections ?? 100}`,
    '-c fsync=off',
    '-c shared_buffers=32MB',
  ].join(' ')
  const log = join(dir, 'server.log')
  let running = false
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-o', serverOptions, '-l', log, '-w', '-t', '60', 'start'])
    running = true
  }
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'])
    running = false
  }
  await start()
  let destroyed = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async restart(mode = 'fast') {
      await stop(mode)
      await start()
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      await stop('immediate').catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
