/**
 * `conveyor cancel` and `conveyor retry` as an operator's script uses them, against a PostgreSQL
 * server (skipped without one): `--all`, ids that do not exist, jobs in a state the action leaves
 * alone, and succeeded jobs that are retried only with `--force`. Every case checks the jobs' states
 * in the database, not only what the command printed.
 */
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { createTestSchema, provideDatabase } from '../support/database.js'
import { runCli } from './cli-process.js'

const database = await provideDatabase()
const describeServer = 'skip' in database ? describe.skip : describe

const ok = defineJob<{ n: number }>({ kind: 'cli.ok' })
const mail = defineJob<{ to: string }>({ kind: 'cli.mail', queue: 'mail' })

describeServer('conveyor cancel and retry on chosen jobs', { timeout: 60_000 }, () => {
  const url = 'skip' in database ? '' : database.url
  const schema = createTestSchema(url, 'conveyor_cli_actions')
  const env = { DATABASE_URL: url }
  const flags = ['--schema', schema.schema]
  let pool: pg.Pool
  let queue: PostgresQueue

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: url, max: 2 })
    queue = createPostgresQueue({ pool, schema: schema.schema })
    await queue.migrate()
    queue.register(ok, () => {})
  })
  beforeEach(async () => {
    await queue.deleteJobs({
      states: ['scheduled', 'available', 'retryable', 'paused', 'succeeded', 'failed', 'cancelled'],
    })
  })
  afterAll(async () => {
    await queue?.shutdown()
    await pool?.end()
    await schema.drop()
    if (!('skip' in database)) await database.stop()
  })

  const stateOf = async (id: string) => (await queue.getJob(id))?.state
  /** Enqueues one job of `ok` and runs it: a succeeded job. */
  const succeededJob = async () => {
    const job = await queue.enqueue(ok, { n: 1 })
    await queue.drain({ queues: ['default'] })
    expect(await stateOf(job.id)).toBe('succeeded')
    return job.id
  }

  it('cancels every waiting job with --all, as its help says, and leaves finished ones', async () => {
    const done = await succeededJob()
    const waiting = await queue.enqueueMany([
      { job: mail, payload: { to: 'a@example.com' } },
      { job: mail, payload: { to: 'b@example.com' }, options: { delayMs: 60_000 } },
      { job: ok, payload: { n: 2 } },
    ])
    const { code, stdout, stderr } = await runCli(['cancel', '--all', ...flags], env)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toBe('Cancelled 3 jobs.\n')
    for (const job of waiting) expect(await stateOf(job.id)).toBe('cancelled')
    expect(await stateOf(done)).toBe('succeeded')
  })

  it('pauses waiting jobs and resumes them by their run time; finished and missing ones are named', async () => {
    const done = await succeededJob()
    const [now, later] = await queue.enqueueMany([
      { job: mail, payload: { to: 'a@example.com' } },
      { job: mail, payload: { to: 'b@example.com' }, options: { delayMs: 60_000 } },
    ])
    const paused = await runCli(['pause', '--queue', 'mail', ...flags], env)
    expect(paused).toMatchObject({ code: 0, stdout: 'Paused 2 jobs.\n', stderr: '' })
    expect(await stateOf(now!.id)).toBe('paused')
    expect(await stateOf(later!.id)).toBe('paused')
    const again = await runCli(['pause', '--id', now!.id, '--id', done, '--json', ...flags], env)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({
      paused: 0,
      notFound: [],
      leftAlone: [
        { id: now!.id, state: 'paused' },
        { id: done, state: 'succeeded' },
      ],
    })
    const missing = String(BigInt(later!.id) + 1000n)
    const resumed = await runCli(
      ['resume', '--id', now!.id, '--id', later!.id, '--id', missing, ...flags],
      env,
    )
    expect(resumed.code).toBe(1)
    expect(resumed.stdout).toBe('Resumed 2 jobs.\n')
    expect(await stateOf(now!.id)).toBe('available')
    expect(await stateOf(later!.id)).toBe('scheduled')
    const refused = await runCli(['resume', '--state', 'failed', ...flags], env)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/only paused jobs can be resumed/)
  })

  it('names the ids that were not found and exits with 1, after acting on the others', async () => {
    const [job] = await queue.enqueueMany([{ job: mail, payload: { to: 'a@example.com' } }])
    const missing = String(BigInt(job!.id) + 1000n)
    const { code, stdout, stderr } = await runCli(['cancel', '--id', job!.id, '--id', missing, ...flags], env)
    expect(code).toBe(1)
    expect(stdout).toBe('Cancelled 1 job.\n')
    expect(stderr).toBe(`conveyor: not found: job ${missing} (1 of 2 ids); nothing was done for it.\n`)
    expect(await stateOf(job!.id)).toBe('cancelled')

    const only = await runCli(['retry', '--id', missing, ...flags], env)
    expect(only.code).toBe(1)
    expect(only.stdout).toBe('Retried 0 jobs.\n')
    expect(only.stderr).toContain(`not found: job ${missing} (1 of 1 id)`)
  })

  it('says which chosen jobs were left alone, and why', async () => {
    const done = await succeededJob()
    const { code, stdout, stderr } = await runCli(['cancel', '--id', done, ...flags], env)
    expect(code).toBe(0)
    expect(stderr).toBe('')
    expect(stdout).toBe(
      `Cancelled 0 jobs.\nLeft alone: job ${done} (succeeded: only waiting, paused or running jobs can be cancelled).\n`,
    )
    expect(await stateOf(done)).toBe('succeeded')
  })

  it('retries a succeeded job only with --force', async () => {
    const done = await succeededJob()
    const refused = await runCli(['retry', '--id', done, ...flags], env)
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toContain(`job ${done} succeeded`)
    expect(refused.stderr).toContain('--force')
    expect(refused.stderr).toContain('nothing was retried')
    expect(await stateOf(done)).toBe('succeeded')

    const byState = await runCli(['retry', '--state', 'succeeded', '--all', ...flags], env)
    expect(byState.code).toBe(2)
    expect(byState.stderr).toContain('--force')
    expect(await stateOf(done)).toBe('succeeded')

    const forced = await runCli(['retry', '--id', done, '--force', ...flags], env)
    expect(forced).toMatchObject({ code: 0, stdout: 'Retried 1 job.\n', stderr: '' })
    expect(await stateOf(done)).toBe('available')
  })

  it('refuses states the action never changes', async () => {
    for (const [args, message] of [
      [['cancel', '--state', 'succeeded'], /cannot cancel succeeded jobs/],
      [['retry', '--state', 'running'], /cannot retry running jobs/],
    ] as const) {
      const { code, stderr } = await runCli([...args, ...flags], env)
      expect(code).toBe(2)
      expect(stderr).toMatch(message)
    }
  })

  it('stops and restarts a job by name with --key (its unique key), --kind when two kinds hold it', async () => {
    const job = await queue.enqueue(
      mail,
      { to: 'a@example.com' },
      { uniqueKey: 'nightly-report', delayMs: 60_000 },
    )
    const stopped = await runCli(['cancel', '--key', 'nightly-report', ...flags], env)
    expect(stopped).toMatchObject({ code: 0, stdout: 'Cancelled 1 job.\n', stderr: '' })
    expect(await stateOf(job.id)).toBe('cancelled')
    const again = await runCli(['cancel', '--key', 'nightly-report', ...flags], env)
    expect(again.stdout).toBe(
      `Cancelled 0 jobs.\nLeft alone: job ${job.id} (cancelled: only waiting, paused or running jobs can be cancelled).\n`,
    )
    const restarted = await runCli(['retry', '--key', 'nightly-report', '--json', ...flags], env)
    expect(restarted.code).toBe(0)
    expect(JSON.parse(restarted.stdout)).toEqual({ retried: 1, notFound: [], leftAlone: [] })
    expect(await stateOf(job.id)).toBe('available')
    const held = await runCli(['pause', '--key', 'nightly-report', ...flags], env)
    expect(held).toMatchObject({ code: 0, stdout: 'Paused 1 job.\n', stderr: '' })
    expect(await stateOf(job.id)).toBe('paused')
    const resumed = await runCli(['resume', '--key', 'nightly-report', '--json', ...flags], env)
    expect(JSON.parse(resumed.stdout)).toEqual({ resumed: 1, notFound: [], leftAlone: [] })
    expect(await stateOf(job.id)).toBe('available')

    const other = await queue.enqueue(ok, { n: 1 }, { uniqueKey: 'nightly-report', delayMs: 60_000 })
    const ambiguous = await runCli(['cancel', '--key', 'nightly-report', ...flags], env)
    expect(ambiguous.code).toBe(1)
    expect(ambiguous.stderr).toContain('"cli.mail"')
    expect(ambiguous.stderr).toContain('kind')
    expect(await stateOf(job.id)).toBe('available')
    const one = await runCli(['cancel', '--key', 'nightly-report', '--kind', 'cli.ok', ...flags], env)
    expect(one).toMatchObject({ code: 0, stdout: 'Cancelled 1 job.\n' })
    expect(await stateOf(other.id)).toBe('cancelled')
    expect(await stateOf(job.id)).toBe('available')

    const missing = await runCli(['retry', '--key', 'no-such-report', ...flags], env)
    expect(missing.code).toBe(1)
    expect(missing.stdout).toBe('')
    expect(missing.stderr).toContain('"no-such-report"')
    const empty = await runCli(['retry', '--key', '', ...flags], env)
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('--key')
  })

  it('shows and deletes a job by id or name: show prints it, delete leaves running and, by default, waiting jobs', async () => {
    const done = await succeededJob()
    const waiting = await queue.enqueue(
      mail,
      { to: 'a@example.com' },
      { uniqueKey: 'digest', delayMs: 60_000 },
    )
    const shown = await runCli(['show', '--key', 'digest', '--json', ...flags], env)
    expect(shown.code).toBe(0)
    // The job as the JSON API gives it: times as ISO strings, like status --json.
    const json = JSON.parse(shown.stdout)
    expect(json).toMatchObject({
      id: waiting.id,
      kind: 'cli.mail',
      state: 'scheduled',
      uniqueKey: 'digest',
      runAt: new Date(waiting.runAt).toISOString(),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    })
    const text = await runCli(['show', '--id', done, ...flags], env)
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`Job ${done}: cli.ok in default, succeeded`)
    const unknown = await runCli(['show', '--key', 'no-such', ...flags], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('"no-such"')
    expect((await runCli(['show', ...flags], env)).code).toBe(2)

    // Without --id, --key or --state, delete takes finished jobs only.
    const bulk = await runCli(['delete', '--all', ...flags], env)
    expect(bulk).toMatchObject({ code: 0, stdout: 'Deleted 1 job.\n' })
    expect(await stateOf(done)).toBeUndefined()
    expect(await stateOf(waiting.id)).toBe('scheduled')
    const named = await runCli(['delete', '--key', 'digest', ...flags], env)
    expect(named).toMatchObject({ code: 0, stdout: 'Deleted 1 job.\n', stderr: '' })
    expect(await stateOf(waiting.id)).toBeUndefined()
    const gone = await runCli(['delete', '--key', 'digest', '--json', ...flags], env)
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain('"digest"')
    expect((await runCli(['delete', '--state', 'running', ...flags], env)).code).toBe(2)
  })

  it('prints what it did as JSON with --json', async () => {
    const [job] = await queue.enqueueMany([{ job: mail, payload: { to: 'a@example.com' } }])
    const missing = String(BigInt(job!.id) + 1000n)
    const { code, stdout } = await runCli(
      ['cancel', '--json', '--id', job!.id, '--id', missing, ...flags],
      env,
    )
    expect(code).toBe(1)
    expect(JSON.parse(stdout)).toEqual({ cancelled: 1, notFound: [missing], leftAlone: [] })
  })
})
