/**
 * What crosses into an isolated runner besides the payload (real worker threads and child
 * processes): the run's span wraps the isolated attempt and its trace context is active in the
 * runner, so spans the handler module makes with its own SDK are children of the run span; and
 * abort (timeout, cancellation, shutdown) reaches the runner's `ctx.signal`, with its reason, before
 * the runner is terminated after `abortGraceMs`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpanKind } from '@opentelemetry/api'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createMemoryQueue, type MemoryQueue } from '../../src/adapters/memory/index.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { type Clock, createSystemClock } from '../../src/core/ports/clock.js'
import { findTsx, runnerEntry, spawnRunner } from '../../src/isolation/runner.js'
import { RunnerPool } from '../../src/isolation/runner-pool.js'
import { useTracing } from '../instrumentation/otel.js'
import { waitFor } from '../support/wait.js'
import type { AbortablePayload } from './fixtures/abortable.handler.js'
import type { ReportedSpan } from './fixtures/traced.handler.js'

const traced = defineJob<{ out: string }>({ kind: 'traced' })
const abortable = defineJob<AbortablePayload>({ kind: 'abortable', maxAttempts: 1 })
const tracedModule = new URL('./fixtures/traced.handler.ts', import.meta.url)
const abortableModule = new URL('./fixtures/abortable.handler.ts', import.meta.url)

const dir = mkdtempSync(join(tmpdir(), 'conveyor-abort-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let markers = 0
const marker = () => join(dir, `m${++markers}`)
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
/** The JSON in `path`, or null while it is missing or still being written. */
const readJsonIfWhole = (path: string): unknown => {
  try {
    return readJson(path)
  } catch {
    return null
  }
}
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.each(['thread', 'process'] as const)('isolation boundary: %s', (isolation) => {
  const tracing = useTracing()
  let queue: MemoryQueue<Clock> | undefined
  afterEach(async () => {
    await queue?.shutdown({ graceMs: 0 })
    queue = undefined
  })

  it("the run span wraps the isolated attempt; the handler module's own spans are its children", async () => {
    queue = createMemoryQueue({ clock: createSystemClock(), tracing: { tracerProvider: tracing.provider } })
    queue.register(traced, tracedModule, { isolation })
    const out = marker()
    const job = await queue.enqueue(traced, { out })
    expect(await queue.drain()).toMatchObject({ succeeded: 1 })
    const [run] = tracing.named('process default')
    expect(run?.kind).toBe(SpanKind.CONSUMER)
    expect(run?.attributes).toMatchObject({
      'messaging.message.id': job.id,
      'conveyor.job.outcome': 'succeeded',
    })
    const sc = run!.spanContext()
    const spans = JSON.parse(readFileSync(out, 'utf8')) as ReportedSpan[]
    const work = spans.find((s) => s.name === 'user work')
    const step = spans.find((s) => s.name === 'user step')
    expect(work).toMatchObject({ traceId: sc.traceId, parentSpanId: sc.spanId })
    expect(step).toMatchObject({ traceId: sc.traceId, parentSpanId: work?.spanId })
  })

  it('a timeout aborts ctx.signal in the runner with JobTimeoutError; the attempt fails', async () => {
    queue = createMemoryQueue({ clock: createSystemClock() })
    queue.register(abortable, abortableModule, { isolation })
    const m = marker()
    // A warm runner, so the timeout falls while the handler runs (not while the module loads).
    await queue.enqueue(abortable, { marker: m, honour: true, quick: true })
    expect(await queue.drain()).toMatchObject({ succeeded: 1 })
    const job = await queue.enqueue(abortable, { marker: m, honour: true }, { timeoutMs: 200 })
    expect(await queue.drain()).toMatchObject({ failed: 1 })
    expect(await queue.getJob(job.id)).toMatchObject({
      state: 'failed',
      errors: [{ name: 'JobTimeoutError' }],
    })
    const seen = (await waitFor(() => readJsonIfWhole(`${m}.aborted`))) as Record<string, unknown>
    expect(seen).toMatchObject({ name: 'JobTimeoutError', aborted: true })
  })

  it('cancelling a running job aborts ctx.signal in the runner with JobCancelledError', async () => {
    queue = createMemoryQueue({
      clock: createSystemClock(),
      workers: [{ queues: ['default'], concurrency: 1 }],
    })
    queue.register(abortable, abortableModule, { isolation })
    const m = marker()
    const job = await queue.enqueue(abortable, { marker: m, honour: true })
    await queue.start()
    await waitFor(() => existsSync(`${m}.started`))
    await queue.cancelJobs({ ids: [job.id] })
    // The runner writes the file as the abort arrives: wait for it whole, not only for it to exist.
    const seen = await waitFor(() => readJsonIfWhole(`${m}.aborted`))
    expect(seen).toMatchObject({ name: 'JobCancelledError' })
    await waitFor(async () => (await queue!.getJob(job.id))?.state === 'cancelled')
  })

  it('shutdown past its grace aborts ctx.signal in the runner and waits for the runner to stop', async () => {
    queue = createMemoryQueue({
      clock: createSystemClock(),
      workers: [{ queues: ['default'], concurrency: 1 }],
    })
    queue.register(abortable, abortableModule, { isolation, abortGraceMs: 5000 })
    const m = marker()
    const job = await queue.enqueue(abortable, { marker: m, honour: true })
    await queue.start()
    await waitFor(() => existsSync(`${m}.started`))
    await queue.shutdown({ graceMs: 0 })
    // The handler saw the abort (and stopped) before shutdown resolved; the job went back to the queue.
    expect(readJson(`${m}.aborted`)).toMatchObject({ name: 'ShutdownAbortError' })
    expect(await queue.store.getJob({ id: job.id })).toMatchObject({ state: 'available' })
  })

  it('a runner whose handler ignores the signal is terminated after abortGraceMs', async () => {
    const entry = runnerEntry(new URL('../../src/isolation/node-isolation.ts', import.meta.url).href)
    const tsx = findTsx(abortableModule, entry.href)
    const pool = new RunnerPool(isolation, () => spawnRunner({ mode: isolation, entry, tsx, execArgv: [] }), {
      abortGraceMs: 100,
    })
    const m = marker()
    const jobs = createMemoryQueue()
    const job = (await jobs.getJob((await jobs.enqueue(abortable, { marker: m, honour: false })).id))!
    try {
      const controller = new AbortController()
      const run = pool.run(
        {
          type: 'run',
          module: abortableModule.href,
          payload: { marker: m, honour: false },
          job,
          state: null,
          schedule: null,
          trace: {},
        },
        { onLog: () => {}, onState: () => {} },
        controller.signal,
      )
      const started = (await waitFor(() => readJsonIfWhole(`${m}.started`))) as Record<string, unknown>
      expect(pool.size).toBe(1)
      controller.abort(new Error('stop now'))
      await expect(run).rejects.toThrow('stop now')
      await waitFor(() => pool.size === 0)
      if (isolation === 'process') await waitFor(() => !isAlive(started.pid as number))
    } finally {
      await pool.close()
    }
  })

  it('abortGraceMs is validated', () => {
    const q = createMemoryQueue()
    expect(() => q.register(abortable, abortableModule, { isolation, abortGraceMs: -1 })).toThrow(
      InvalidArgumentError,
    )
    expect(() => q.register(abortable, () => {}, { abortGraceMs: 100 })).toThrow(InvalidArgumentError)
  })
})
