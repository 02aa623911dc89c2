/**
 * `conveyor demo`: on the embedded PostgreSQL in a temporary folder (always), and on a PostgreSQL
 * server when one is available. It must print the admin URL, serve the page, process jobs, stop with
 * exit code 0 on SIGINT, and keep the jobs for the next start.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { runCli, startCli } from './cli-process.js'

const ADMIN_URL = /Admin page: (http:\/\/\S+)/

/** Listens on a free port of localhost (as the admin page would), to make it busy. */
async function occupyPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen({ port: 0, host: 'localhost' }, resolve))
  const { port } = server.address() as { port: number }
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
/** A report line saying at least one job succeeded in this process. */
const PROCESSED = /\] [1-9][\d,]* succeeded, /

describe('conveyor demo on the embedded PostgreSQL', { timeout: 120_000 }, () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-demo-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('migrates, enqueues, processes jobs, serves the admin page and stops on SIGINT', async () => {
    const demo = startCli([
      'demo',
      '--data-dir',
      dir,
      '--create',
      '--port',
      '0',
      '--seed',
      '30',
      '--rate',
      '5',
    ])
    try {
      await demo.waitForOutput(/^\[1\/\d+\] applied 001_initial/m, 90_000)
      await demo.waitForOutput(/^Enqueued 30 example jobs\.$/m)
      expect(demo.stdout()).toMatch(/^Enqueueing example jobs: 30\/30$/m)
      const [, url] = await demo.waitForOutput(ADMIN_URL)
      expect(url).toMatch(/^http:\/\/localhost:\d+\/$/)

      const page = await fetch(url!) // no sign-in on localhost
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('Conveyor demo')
      const schedules = await (await fetch(`${url}schedules`)).text()
      expect(schedules).toContain('demo.clean-up')

      await demo.waitForOutput(PROCESSED)
      const busy = await runCli(['status', '--data-dir', dir])
      expect(busy.code).toBe(1)
      expect(busy.stderr).toMatch(/is in use by process \d+/)

      expect(await demo.stop('SIGINT', 60_000)).toBe(0)
      expect(demo.stdout()).toContain('Received SIGINT')
      expect(demo.stdout()).toMatch(/^Stopped\.$/m)
    } finally {
      demo.kill()
    }

    const { code, stdout } = await runCli(['status', '--json', '--data-dir', dir])
    expect(code).toBe(0)
    const stats = (JSON.parse(stdout) as { queues: { queue: string; counts: Record<string, number> }[] })
      .queues
    expect(stats.map((s) => s.queue)).toContain('default')
    expect(stats.reduce((n, s) => n + (s.counts.succeeded ?? 0), 0)).toBeGreaterThan(0)
    expect(stats.reduce((n, s) => n + (s.counts.running ?? 0), 0)).toBe(0) // shutdown returned them
  })

  it('fails on a busy port before it creates the data folder', async () => {
    const busy = await occupyPort()
    try {
      const fresh = join(dir, 'never-made')
      const { code, stdout, stderr } = await runCli([
        'demo',
        '--data-dir',
        fresh,
        '--create',
        '--port',
        String(busy.port),
      ])
      expect(code).toBe(1)
      expect(stderr).toBe(
        `conveyor: port ${busy.port} on localhost is already in use: choose another with --port\n`,
      )
      expect(stdout).toBe('')
      expect(existsSync(fresh)).toBe(false)
    } finally {
      await busy.close()
    }
  })

  it('stops gracefully when a second SIGINT follows the first at once (npm relays Ctrl-C)', async () => {
    const demo = startCli([
      'demo',
      '--data-dir',
      dir,
      '--create',
      '--port',
      '0',
      '--rate',
      '5',
      '--seed',
      '5',
    ])
    try {
      await demo.waitForOutput(ADMIN_URL, 60_000)
      // A report line showing jobs running now (slow reports run for seconds).
      await demo.waitForOutput(/running [1-9]/, 60_000)
      demo.signal('SIGINT')
      await demo.waitForOutput(/^Received SIGINT/m) // the first signal is being handled
      demo.signal('SIGINT') // as npm's relay of the same keypress would, right after the first
      expect(await demo.waitForExit(30_000)).toBe(0)
      expect(demo.stderr()).toMatch(/press Ctrl-C again .* to stop at once/)
      expect(demo.stderr()).toContain('second SIGINT')
      expect(demo.stdout()).toMatch(/^Stopped\.$/m)
    } finally {
      demo.kill()
    }
    const { stdout } = await runCli(['status', '--json', '--data-dir', dir])
    const stats = (JSON.parse(stdout) as { queues: { counts: Record<string, number> }[] }).queues
    expect(stats.reduce((n, s) => n + (s.counts.running ?? 0), 0)).toBe(0) // finished or returned
  })

  it('shows the jobs of the previous run after a restart', async () => {
    const demo = startCli(['demo', '--data-dir', dir, '--port', '0', '--rate', '0'])
    try {
      await demo.waitForOutput(/^Found \d+ jobs from an earlier run\.$/m, 60_000)
      await demo.waitForOutput(ADMIN_URL)
      expect(demo.stdout()).not.toContain('applied 001_initial')
      expect(await demo.stop('SIGTERM', 60_000)).toBe(0)
    } finally {
      demo.kill()
    }
  })
})

const database = await provideDatabase()
const describeServer = 'skip' in database ? describe.skip : describe

describeServer('conveyor demo on a PostgreSQL server', { timeout: 60_000 }, () => {
  const url = 'skip' in database ? '' : database.url
  const schema = createTestSchema(url, 'conveyor_demo_test')
  afterAll(async () => {
    await schema.drop()
    if (!('skip' in database)) await database.stop()
  })

  it('runs on DATABASE_URL in its own schema', async () => {
    const demo = startCli(['demo', '--port', '0', '--seed', '20', '--schema', schema.schema], {
      DATABASE_URL: url,
    })
    try {
      await demo.waitForOutput(ADMIN_URL)
      expect(demo.stdout()).toContain(`Database: PostgreSQL at `)
      expect(demo.stdout()).toContain(`schema "${schema.schema}"`)
      expect(demo.stdout()).not.toContain('embedded')
      await demo.waitForOutput(PROCESSED)
      expect(await demo.stop('SIGINT', 60_000)).toBe(0)
    } finally {
      demo.kill()
    }
  })

  it('fails on a busy port before it migrates anything', async () => {
    const busy = await occupyPort()
    try {
      const unused = `${schema.schema}_busy`
      const { code, stderr } = await runCli(['demo', '--port', String(busy.port), '--schema', unused], {
        DATABASE_URL: url,
      })
      expect(code).toBe(1)
      expect(stderr).toContain(`port ${busy.port} on localhost is already in use`)
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [unused])
        expect(found.rowCount).toBe(0)
      } finally {
        await client.end()
      }
    } finally {
      await busy.close()
    }
  })
})
