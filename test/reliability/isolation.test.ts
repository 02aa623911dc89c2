/**
 * Isolation under faults: jobs whose isolated handlers (threads and processes, one kind each) exit
 * with a code, crash with an uncaught exception or busy-loop past their timeout, mixed with jobs that
 * succeed, on PostgreSQL workers. Lost = a job not in the final state its payload calls for (ok →
 * succeeded; exit/crash/timeout → failed with IsolatedRunnerExitError carrying the code, or
 * JobTimeoutError). Doubled = a job started more than once (every job has one attempt).
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { WorkPayload } from '../isolation/fixtures/work.handler.js'
import { describePostgres, useStore } from '../postgres/fixture.js'
import { byScale, writeScenarioResult } from '../support/reliability-results.js'
import { waitFor } from '../support/wait.js'

const JOBS = byScale({ short: 60, long: 200 })
const TIMEOUT_MS = 300
const module = new URL('../isolation/fixtures/work.handler.ts', import.meta.url)
const threadJob = defineJob<WorkPayload>({ kind: 'iso-thread', maxAttempts: 1, timeoutMs: 10_000 })
const processJob = defineJob<WorkPayload>({ kind: 'iso-process', maxAttempts: 1, timeoutMs: 10_000 })

/** The fault of job `i`, by a fixed pattern: 1 in 10 exits, 1 in 10 crashes, 1 in 20 times out. */
function payloadOf(i: number): WorkPayload {
  if (i % 10 === 3) return { do: 'exit', code: 2 + (i % 5) }
  if (i % 10 === 7) return { do: 'crash' }
  if (i % 20 === 11) return { do: 'busy' }
  return { do: 'ok', value: i }
}

/** True when the job ended as its payload calls for. */
function endedAsExpected(job: JobRecord | null, payload: WorkPayload): boolean {
  if (!job) return false
  const error = job.errors[0]
  switch (payload.do) {
    case 'ok':
      return job.state === 'succeeded'
    case 'exit':
      return (
        job.state === 'failed' &&
        error?.name === 'IsolatedRunnerExitError' &&
        error.message.includes(`exited with code ${payload.code}`)
      )
    case 'crash':
      return (
        job.state === 'failed' &&
        error?.name === 'IsolatedRunnerExitError' &&
        error.message.includes('crashed outside the handler')
      )
    case 'busy':
      return job.state === 'failed' && error?.name === 'JobTimeoutError'
    default:
      return false
  }
}

describePostgres('reliability: isolated handlers that crash, exit and time out', () => {
  const db = useStore()
  let queue: PostgresQueue
  beforeEach(() => {
    queue = createPostgresQueue({
      pool: db.pool,
      schema: db.schema,
      workers: [{ queues: ['default'], concurrency: 4 }],
    })
    queue.register(threadJob, module, { isolation: 'thread' })
    queue.register(processJob, module, { isolation: 'process' })
  })
  afterEach(async () => {
    await queue.shutdown({ graceMs: 1000 })
  })

  it(`${JOBS} jobs: none lost, none run twice, every crash, exit and timeout a failed attempt`, async () => {
    const started = performance.now()
    const starts = new Map<string, number>()
    queue.on('started', ({ job }) => starts.set(job.id, (starts.get(job.id) ?? 0) + 1))
    const jobs: { id: string; payload: WorkPayload }[] = []
    for (let i = 0; i < JOBS; i++) {
      const payload = payloadOf(i)
      // Ten jobs to a thread, the next ten to a process, so each mode gets every fault.
      const def = Math.floor(i / 10) % 2 === 0 ? threadJob : processJob
      const options = payload.do === 'busy' ? { timeoutMs: TIMEOUT_MS } : {}
      jobs.push({ id: (await queue.enqueue(def, payload, options)).id, payload })
    }
    await queue.start()
    await waitFor(
      async () => {
        const records = await Promise.all(jobs.map((j) => queue.getJob(j.id)))
        return records.every((r) => r?.state === 'succeeded' || r?.state === 'failed')
      },
      { timeoutMs: 120_000, message: 'every job finished' },
    )
    const records = await Promise.all(jobs.map((j) => queue.getJob(j.id)))
    const lost = jobs.filter((j, i) => !endedAsExpected(records[i]!, j.payload)).length
    const doubled = [...starts.values()].filter((n) => n > 1).length
    const count = (what: WorkPayload['do']) => jobs.filter((j) => j.payload.do === what).length
    const faults = count('exit') + count('crash') + count('busy')
    writeScenarioResult({
      scenario: 'isolation',
      rounds: 1,
      faultsInjected: faults,
      jobs: JOBS,
      lost,
      doubled,
      durationMs: Math.round(performance.now() - started),
      notes: `Isolated handlers on PostgreSQL workers (concurrency 4), half in worker threads and half in child processes: ${count('exit')} process.exit(n), ${count('crash')} uncaught exceptions, ${count('busy')} busy loops past a ${TIMEOUT_MS} ms timeout, ${count('ok')} successes. lost = a job not in the state its payload calls for (each crash and exit failed with IsolatedRunnerExitError naming its code, each timeout with JobTimeoutError); doubled = a job started twice (one attempt each).`,
    })
    expect(lost).toBe(0)
    expect(doubled).toBe(0)
    expect(starts.size).toBe(JOBS)
  }, 180_000)
})
