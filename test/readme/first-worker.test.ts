/**
 * The README's first worker (examples/worker.ts) runs as copied: a real process, a fresh database
 * given only through DATABASE_URL, the default schema, one Ctrl-C (or the SIGTERM of docker stop) to stop.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { dropDatabase, provideDatabase } from '../support/database.js'

const root = join(import.meta.dirname, '..', '..')
const database = await provideDatabase()
if ('skip' in database) console.warn(`[README first worker skipped] ${database.skip}`)

/** Resolves with the output once `pattern` appears on stdout; rejects on exit or after `ms`. */
function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms; output: ${out}`)), ms)
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (pattern.test(out)) {
        clearTimeout(timer)
        resolve(out)
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ${pattern}; output: ${out}`))
    })
  })
}

describe.skipIf('skip' in database)('README: the first worker', () => {
  const names: string[] = []
  const admin = 'skip' in database ? null : new pg.Pool({ connectionString: database.url, max: 1 })
  afterAll(async () => {
    if (admin) for (const name of names) await dropDatabase(admin, name)
    await admin?.end()
  })

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'runs as copied: migrates, runs the job, stops gracefully on one %s',
    async (signal) => {
      const name = `conveyor_first_worker_${randomBytes(4).toString('hex')}`
      names.push(name)
      await admin!.query(`CREATE DATABASE ${name}`)
      const url = new URL((database as { url: string }).url)
      url.pathname = `/${name}`
      const child = spawn(process.execPath, ['--import', 'tsx', 'examples/worker.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: url.href },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      try {
        expect(await waitForOutput(child, /sent to ada@example.com \(attempt 1\)/, 20_000)).toContain(
          'sent to',
        )
        child.kill(signal)
        expect(await exited).toBe(0)
      } finally {
        // A failure above leaves the worker running, connected to the database afterAll drops.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }

      const check = new pg.Client({ connectionString: url.href })
      await check.connect()
      try {
        const { rows } = await check.query(
          'SELECT kind, state FROM conveyor.jobs UNION ALL SELECT kind, state FROM conveyor.job_history',
        )
        expect(rows).toEqual([{ kind: 'send-email', state: 'succeeded' }])
      } finally {
        await check.end()
      }
    },
  )
})
