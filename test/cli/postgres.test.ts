/** The command line against a PostgreSQL server (skipped without one): migrate, status, retry, cancel, admin. */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { runCli, runCliWithClosedStdout, startCli } from './cli-process.js'

const database = await provideDatabase()
const describeServer = 'skip' in database ? describe.skip : describe
if ('skip' in database) console.warn(`[cli postgres tests skipped] ${database.skip}`)

const mail = defineJob<{ to: string }>({ kind: 'cli.mail', queue: 'mail' })
const boom = defineJob<{ n: number }>({ kind: 'cli.boom' })

describeServer('conveyor against a PostgreSQL server', () => {
  const url = 'skip' in database ? '' : database.url
  const schema = createTestSchema(url, 'conveyor_cli')
  const env = { DATABASE_URL: url }
  const flags = ['--schema', schema.schema]
  let pool: pg.Pool
  let queue: PostgresQueue

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url, max: 2 })
    queue = createPostgresQueue({ pool, schema: schema.schema })
  })
  afterAll(async () => {
    await queue?.shutdown()
    await pool?.end()
    await schema.drop()
    if (!('skip' in database)) await database.stop()
  })

  const stateOf = async (id: string) => (await queue.getJob(id))?.state

  it('tells to run migrate on an unmigrated schema', async () => {
    const { code, stderr } = await runCli(['status', ...flags], env)
    expect(code).toBe(1)
    expect(stderr).toContain(`schema "${schema.schema}" is not migrated (pending: 001_initial`)
    expect(stderr).toContain(`run \`conveyor migrate --schema ${schema.schema}\` first`)
  })

  it('says to create a missing database, not that the server may be down', async () => {
    const missing = new URL(url)
    missing.pathname = `/${schema.schema}_missing`
    for (const args of [
      ['status', ...flags],
      ['migrate', ...flags],
    ]) {
      const { code, stderr } = await runCli(args, { DATABASE_URL: missing.href })
      expect(code).toBe(1)
      expect(stderr).not.toContain('Is the server running?')
      expect(stderr).toContain(`database "${schema.schema}_missing" does not exist`)
      expect(stderr).toContain(`create it (createdb ${schema.schema}_missing`)
      expect(stderr).not.toMatch(/^\s+at /m)
    }
  })

  it('says to check the user when the server refuses the role', async () => {
    const stranger = new URL(url)
    stranger.username = `${schema.schema}_nobody`
    stranger.password = 'secret-pass'
    const { code, stderr } = await runCli(['status', ...flags], { DATABASE_URL: stranger.href })
    expect(code).toBe(1)
    expect(stderr).not.toContain('Is the server running?')
    expect(stderr).toContain(`refused the user "${schema.schema}_nobody"`)
    expect(stderr).toContain('check the user name and password')
    expect(stderr).not.toContain('secret-pass')
  })

  it('lists pending migrations with --dry-run without applying them', async () => {
    const { code, stdout } = await runCli(['migrate', '--dry-run', ...flags], env)
    expect(code).toBe(0)
    expect(stdout).toMatch(
      /\d+ pending migrations? \(dry run, nothing applied\):\n {2}001_initial\n {2}002_processes/,
    )
    expect(await queue.pendingMigrations()).toContain('001_initial')
  })

  it('migrates with one progress line per migration, then finds nothing to do', async () => {
    const pending = await queue.pendingMigrations()
    const first = await runCli(['migrate', ...flags], env)
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`Database: PostgreSQL at `)
    pending.forEach((name, i) => {
      expect(first.stdout).toMatch(
        new RegExp(`^\\[${i + 1}/${pending.length}\\] applied ${name} \\(\\d+ ms\\)$`, 'm'),
      )
    })
    expect(first.stdout).toContain(`Done: applied ${pending.length} migrations.`)
    expect(await queue.pendingMigrations()).toEqual([])
    const again = await runCli(['migrate', ...flags], env)
    expect(again.stdout).toContain('Up to date: no pending migrations.')
    expect((await runCli(['migrate', '--dry-run', ...flags], env)).stdout).toContain('Up to date')
  })

  it('shows counts by queue and state, as a table and as JSON', async () => {
    expect((await runCli(['status', ...flags], env)).stdout).toContain('No jobs yet.')
    queue.register(boom, (_payload, ctx) => ctx.fail('broken on purpose'))
    await queue.enqueueMany([
      { job: boom, payload: { n: 1 } },
      { job: boom, payload: { n: 2 } },
      { job: mail, payload: { to: 'a@example.com' } },
      { job: mail, payload: { to: 'b@example.com' } },
      { job: mail, payload: { to: 'c@example.com' } },
    ])
    expect(await queue.drain({ queues: ['default'] })).toMatchObject({ failed: 2 })

    const table = await runCli(['status', ...flags], env)
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(
      /^queue +scheduled +available +running +retryable +paused +succeeded +failed +cancelled +total$/m,
    )
    expect(table.stdout).toMatch(/^default +0 +0 +0 +0 +0 +0 +2 +0 +2$/m)
    expect(table.stdout).toMatch(/^mail +0 +3 +0 +0 +0 +0 +0 +0 +3$/m)
    expect(table.stdout).toMatch(/^total +0 +3 +0 +0 +0 +0 +2 +0 +5$/m)
    // No live process registered cli.mail (this test's queue never started): its due jobs are orphans.
    expect(table.stdout).toMatch(
      /^Orphaned: 3 due jobs no live worker serves \(queue, kind, count\): mail cli\.mail 3$/m,
    )
    expect(table.stdout).toMatch(/^Storage: no warning \(oldest transaction holding the horizon: /m)

    const json = await runCli(['status', '--json', ...flags], env)
    expect(json.code).toBe(0)
    const status = JSON.parse(json.stdout) as {
      queues: { queue: string; paused: boolean; counts: Record<string, number> }[]
      orphans: { jobs: unknown[]; schedules: unknown[] }
      storageHealth: { schema: string; oldestTransactionAgeMs: number; warnings: unknown[] } | null
    }
    expect(Object.keys(status)).toEqual(['queues', 'orphans', 'storageHealth'])
    expect(status.queues.find((s) => s.queue === 'default')?.counts.failed).toBe(2)
    expect(status.queues.find((s) => s.queue === 'mail')).toMatchObject({
      paused: false,
      counts: { available: 3 },
    })
    // The same shapes as the JSON API's GET /api/v1/orphans and GET /api/v1/storage/health.
    expect(status.orphans).toEqual({
      jobs: [
        {
          queue: 'mail',
          kind: 'cli.mail',
          count: 3,
          oldestRunAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
      schedules: [],
    })
    expect(status.storageHealth).toMatchObject({
      schema: schema.schema,
      oldestTransactionAgeMs: expect.any(Number),
      tables: expect.arrayContaining([expect.objectContaining({ name: 'jobs' })]),
      warnings: [],
    })
  })

  it('exits quietly when the reader of its output has gone (conveyor status | head -1)', async () => {
    for (const args of [['status'], ['status', '--json'], ['migrate']]) {
      expect(await runCliWithClosedStdout([...args, ...flags], env)).toEqual({ code: 0, stderr: '' })
    }
  })

  it('retries by id and by filter (failed and cancelled jobs by default)', async () => {
    const failed = await queue.listJobs({ kind: boom.kind })
    const [first, second] = failed.map((j) => j.id)
    const byId = await runCli(['retry', '--id', first!, ...flags], env)
    expect(byId).toMatchObject({ code: 0, stdout: 'Retried 1 job.\n' })
    expect(await stateOf(first!)).toBe('available')
    expect(await stateOf(second!)).toBe('failed')

    const byKind = await runCli(['retry', '--kind', boom.kind, ...flags], env)
    expect(byKind.stdout).toBe('Retried 1 job.\n') // the available one is not a failed or cancelled job
    expect(await stateOf(second!)).toBe('available')
  })

  it('cancels by filter and by ids, and retries cancelled jobs by state', async () => {
    const cancelled = await runCli(['cancel', '--queue', 'mail', ...flags], env)
    expect(cancelled).toMatchObject({ code: 0, stdout: 'Cancelled 3 jobs.\n' })
    const mails = await queue.listJobs({ queue: 'mail' })
    expect(mails.map((j) => j.state)).toEqual(['cancelled', 'cancelled', 'cancelled'])

    const retried = await runCli(['retry', '--queue', 'mail', '--state', 'cancelled,failed', ...flags], env)
    expect(retried.stdout).toBe('Retried 3 jobs.\n')

    const [a, b, c] = mails.map((j) => j.id)
    const byIds = await runCli(['cancel', '--id', a!, '--id', b!, ...flags], env)
    expect(byIds.stdout).toBe('Cancelled 2 jobs.\n')
    expect([await stateOf(a!), await stateOf(b!), await stateOf(c!)]).toEqual([
      'cancelled',
      'cancelled',
      'available',
    ])
  })

  it('serves the admin page behind basic authentication until SIGINT', async () => {
    const admin = startCli(['admin', '--port', '0', '--user', 'ops', '--read-only', ...flags], {
      ...env,
      CONVEYOR_ADMIN_PASSWORD: 'correct-horse',
    })
    try {
      const [, pageUrl] = await admin.waitForOutput(/Admin page: (http:\/\/\S+)/)
      // Each line is its own write: the lines after the address may arrive a moment later.
      await admin.waitForOutput(/^Sign in as "ops"\.$/m)
      expect((await fetch(pageUrl!)).status).toBe(401)
      const authorization = `Basic ${Buffer.from('ops:correct-horse').toString('base64')}`
      const page = await fetch(pageUrl!, { headers: { authorization } })
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('mail')
      expect(await admin.stop('SIGINT')).toBe(0)
    } finally {
      admin.kill()
    }
  })

  it('opens the JSON API to bearer tokens from CONVEYOR_API_TOKENS, and only to them', async () => {
    const token = `${'a'.repeat(20)}0123456789abcdef`
    const admin = startCli(['admin', '--port', '0', ...flags], {
      ...env,
      CONVEYOR_ADMIN_PASSWORD: 'correct-horse',
      CONVEYOR_API_TOKENS: `${token}, ${'b'.repeat(40)}`,
    })
    try {
      const [, pageUrl] = await admin.waitForOutput(/Admin page: (http:\/\/\S+)/)
      await admin.waitForOutput(/^JSON API: 2 bearer tokens/m)
      const api = new URL('api/v1/queues', pageUrl).href
      expect((await fetch(api)).status).toBe(401)
      expect((await fetch(api, { headers: { authorization: `Bearer ${'c'.repeat(40)}` } })).status).toBe(401)
      const answer = await fetch(api, { headers: { authorization: `Bearer ${token}` } })
      expect(answer.status).toBe(200)
      expect(await answer.json()).toHaveProperty('queues')
      // A token opens the API, not the HTML pages.
      expect((await fetch(pageUrl!, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)
      expect(await admin.stop('SIGTERM')).toBe(0)
    } finally {
      admin.kill()
    }
  })

  it('says why its API cannot enqueue or change payloads: the command line has no job definitions', async () => {
    const token = `${'d'.repeat(20)}0123456789abcdef`
    const admin = startCli(['admin', '--port', '0', ...flags], { ...env, CONVEYOR_API_TOKENS: token })
    try {
      const [, pageUrl] = await admin.waitForOutput(/Admin page: (http:\/\/\S+)/)
      const call = (method: string, path: string, body: unknown) =>
        fetch(new URL(`api/v1/${path}`, pageUrl).href, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const [waiting] = await queue.listJobs({ queue: 'mail', states: ['available'] })
      for (const answer of [
        await call('POST', 'jobs', { kind: mail.kind, payload: { to: 'd@example.com' } }),
        await call('PUT', 'schedules/cli-nightly', { expression: '@daily', kind: mail.kind, payload: {} }),
        await call('PATCH', `jobs/${waiting?.id}`, { payload: { to: 'e@example.com' } }),
      ]) {
        expect(answer.status).toBe(422)
        const { error } = (await answer.json()) as { error: { code: string; message: string } }
        expect(error.code).toBe('UNKNOWN_JOB_KIND')
        expect(error.message).toContain(`job kind "${mail.kind}"`)
        expect(error.message).toContain('the `conveyor` command line, which has no job definitions')
        expect(error.message).toContain('mount adminPlugin in your application with its `jobs` option')
        expect(error.message).not.toContain('register a handler')
      }
      expect(await admin.stop('SIGTERM')).toBe(0)
    } finally {
      admin.kill()
    }
  })

  it('refuses a CONVEYOR_API_TOKENS entry that is too short to be a secret', async () => {
    const { code, stderr } = await runCli(['admin', '--port', '0', ...flags], {
      ...env,
      CONVEYOR_API_TOKENS: 'short',
    })
    expect(code).toBe(2)
    expect(stderr).toContain('CONVEYOR_API_TOKENS')
  })

  it('makes up and prints a password when none is configured', async () => {
    const admin = startCli(['admin', '--port', '0', ...flags], env)
    try {
      const [, pageUrl] = await admin.waitForOutput(/Admin page: (http:\/\/\S+)/)
      const [, password] = await admin.waitForOutput(/Sign in as "admin" with the password (\S+)/)
      const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`
      expect((await fetch(pageUrl!, { headers: { authorization } })).status).toBe(200)
      expect(await admin.stop('SIGTERM')).toBe(0)
    } finally {
      admin.kill()
    }
  })
})
