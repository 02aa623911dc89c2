/**
 * The command line on the embedded PostgreSQL (PGlite in a temporary folder): migrate, status,
 * retry and cancel, as on a server. The steps share one folder and run in order.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { createPGlitePool } from '../../src/adapters/postgres/pglite-pool.js'
import type { JobState } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { runCli } from './cli-process.js'

const mail = defineJob<{ to: string }>({ kind: 'cli.mail', queue: 'mail' })
const boom = defineJob<{ n: number }>({ kind: 'cli.boom' })

/** Opens the folder's database in this process (no CLI runs meanwhile), runs `work`, closes it. */
async function withEmbeddedQueue<T>(
  dir: string,
  work: (queue: ReturnType<typeof createPostgresQueue>) => Promise<T>,
) {
  const pglite = new PGlite(join(dir, 'pgdata'))
  const pool = createPGlitePool({ pglite })
  const queue = createPostgresQueue({ pool, schema: 'conveyor' })
  try {
    return await work(queue)
  } finally {
    await queue.shutdown()
    await pool.end()
    await pglite.close()
  }
}

describe('conveyor on the embedded PostgreSQL', { timeout: 90_000 }, () => {
  let dir = ''
  let flags: string[] = []
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-cli-'))
    flags = ['--data-dir', dir]
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lists pending migrations with --dry-run, then applies them with progress', async () => {
    const dry = await runCli(['migrate', '--dry-run', '--create', ...flags])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain(`Database: embedded PostgreSQL in ${dir}, schema "conveyor"`)
    expect(dry.stdout).toMatch(/pending migrations? \(dry run, nothing applied\):\n {2}001_initial/)

    const applied = await runCli(['migrate', ...flags])
    expect(applied.code).toBe(0)
    expect(applied.stdout).toMatch(/^\[1\/\d+\] applied 001_initial \(\d+ ms\)$/m)
    expect(applied.stdout).toMatch(/^\[2\/\d+\] applied 002_processes \(\d+ ms\)$/m)
    expect(applied.stdout).toMatch(/Done: applied \d+ migrations\./)
  })

  it('tells to run migrate for a schema that is not migrated', async () => {
    const { code, stderr } = await runCli(['status', '--schema', 'other', ...flags])
    expect(code).toBe(1)
    expect(stderr).toContain(`run \`conveyor migrate --data-dir ${dir} --schema other\` first`)
  })

  it('shows counts, retries and cancels by id and by filter', async () => {
    const ids = await withEmbeddedQueue(dir, async (queue) => {
      queue.register(boom, (_payload, ctx) => ctx.fail('broken on purpose'))
      const jobs = await queue.enqueueMany([
        { job: boom, payload: { n: 1 } },
        { job: boom, payload: { n: 2 } },
        { job: mail, payload: { to: 'a@example.com' } },
        { job: mail, payload: { to: 'b@example.com' } },
      ])
      await queue.drain({ queues: ['default'] })
      return jobs.map((j) => j.id)
    })
    const counts = async () => {
      const { stdout } = await runCli(['status', '--json', ...flags])
      const { queues } = JSON.parse(stdout) as {
        queues: { queue: string; counts: Record<JobState, number> }[]
      }
      return Object.fromEntries(queues.map((s) => [s.queue, s.counts]))
    }
    expect(await counts()).toMatchObject({ default: { failed: 2 }, mail: { available: 2 } })
    expect((await runCli(['status', ...flags])).stdout).toMatch(/^mail +0 +2 +0 +0 +0 +0 +0 +0 +2$/m)

    expect((await runCli(['retry', '--id', ids[0]!, ...flags])).stdout).toBe('Retried 1 job.\n')
    expect((await runCli(['cancel', '--queue', 'mail', ...flags])).stdout).toBe('Cancelled 2 jobs.\n')
    expect((await runCli(['cancel', '--id', ids[0]!, ...flags])).stdout).toBe('Cancelled 1 job.\n')
    expect(await counts()).toMatchObject({ default: { failed: 1, cancelled: 1 }, mail: { cancelled: 2 } })
    expect((await runCli(['retry', '--all', ...flags])).stdout).toBe('Retried 4 jobs.\n')
    expect(await counts()).toMatchObject({ default: { available: 2 }, mail: { available: 2 } })
  })
})
