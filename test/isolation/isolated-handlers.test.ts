/**
 * Isolated handlers on the memory adapter (drain and performJob, system clock), in both modes: the
 * context crosses (payload, attempt, state, log lines, controls, errors), a handler past its timeout
 * is terminated and its attempt fails with JobTimeoutError, a crash or process.exit(n) fails only
 * that attempt (the exit code in its error), and the pool replaces the dead runner.
 */
import { threadId } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryQueue, type MemoryQueue } from '../../src/adapters/memory/index.js'
import {
  InvalidArgumentError,
  IsolatedRunnerExitError,
  JobTimeoutError,
} from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { type Clock, createSystemClock } from '../../src/core/ports/clock.js'
import type { WorkPayload } from './fixtures/work.handler.js'

const work = defineJob<WorkPayload>({ kind: 'work', maxAttempts: 2, timeoutMs: 10_000 })
const plain = defineJob<{ n: number }>({ kind: 'plain' })
const workModule = new URL('./fixtures/work.handler.ts', import.meta.url)
const plainModule = new URL('./fixtures/plain.handler.mjs', import.meta.url)

describe.each(['thread', 'process'] as const)('isolation: %s', (isolation) => {
  let queue: MemoryQueue<Clock>
  afterEach(async () => {
    await queue.shutdown()
  })
  function setUp() {
    queue = createMemoryQueue({ clock: createSystemClock() })
    queue.register(work, workModule, { isolation })
    queue.register(plain, plainModule, { isolation })
  }

  it('runs a compiled .js module outside this thread/process, with the payload and attempt', async () => {
    setUp()
    const outcome = await queue.performJob(plain, { n: 7 }, { attempt: 2, maxAttempts: 3 })
    expect(outcome).toMatchObject({ outcome: 'succeeded', result: { echo: { n: 7 }, attempt: 2 } })
    const result = (outcome as { result: { threadId: number; pid: number } }).result
    if (isolation === 'thread') expect(result.threadId).not.toBe(0)
    else expect(result.pid).not.toBe(process.pid)
  })

  it('carries log lines, state changes, errors and controls across', async () => {
    setUp()
    const ctxJob = await queue.enqueue(work, { do: 'context' }, { state: { step: 1 } })
    const thrown = await queue.enqueue(work, { do: 'throw', message: 'bad input' })
    const snoozed = await queue.enqueue(work, { do: 'snooze' })
    const failed = await queue.enqueue(work, { do: 'fail' })
    const cancelled = await queue.enqueue(work, { do: 'cancel' })
    expect(await queue.drain({ limit: 5 })).toMatchObject({
      succeeded: 1,
      retried: 1,
      snoozed: 1,
      failed: 1,
      cancelled: 1,
    })

    const c = await queue.getJob(ctxJob.id)
    expect(c).toMatchObject({ state: 'succeeded', workflowState: { seen: { step: 1 } } })
    expect(c?.logs?.[0]?.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'context seen',
        fields: { kind: 'work', error: expect.objectContaining({ message: 'as a field' }) },
      }),
      expect.objectContaining({ message: 'trace' }),
    ])
    expect(await queue.getJob(thrown.id)).toMatchObject({
      state: 'retryable',
      errors: [{ name: 'TypeError', message: 'bad input' }],
    })
    const s = await queue.getJob(snoozed.id)
    expect(s).toMatchObject({ state: 'scheduled', attempt: 0, workflowState: { step: 2 } })
    expect(s?.logs?.[0]?.lines).toEqual([
      expect.objectContaining({ message: 'snoozing', fields: { attempt: 1 } }),
    ])
    expect(await queue.getJob(failed.id)).toMatchObject({ state: 'failed', errors: [{ message: 'no way' }] })
    expect(await queue.getJob(cancelled.id)).toMatchObject({ state: 'cancelled' })
  })

  it('terminates a handler past its timeout: a failed attempt (JobTimeoutError), then the pool runs the next job', async () => {
    setUp()
    const busy = await queue.enqueue(work, { do: 'busy' }, { timeoutMs: 200, maxAttempts: 1 })
    const next = await queue.enqueue(work, { do: 'ok' })
    expect(await queue.drain()).toMatchObject({ succeeded: 1, failed: 1, total: 2 })
    expect(await queue.getJob(busy.id)).toMatchObject({
      state: 'failed',
      errors: [{ name: 'JobTimeoutError' }],
    })
    expect(await queue.getJob(next.id)).toMatchObject({ state: 'succeeded' })
    const performed = await queue.performJob(work, { do: 'busy' }, { timeoutMs: 100 })
    expect(performed).toMatchObject({ outcome: 'retry', error: expect.any(JobTimeoutError) })
  })

  it('process.exit(3) and a crash fail only their attempt (exit code in the error); the jobs next to them succeed', async () => {
    setUp()
    const before = await queue.enqueue(work, { do: 'ok' })
    const exited = await queue.enqueue(work, { do: 'exit', code: 3 })
    const crashed = await queue.enqueue(work, { do: 'crash' })
    const after = await queue.enqueue(work, { do: 'ok' })
    // limit: a retry whose backoff ran out meanwhile is not run again in this drain.
    expect(await queue.drain({ limit: 4 })).toMatchObject({ succeeded: 2, retried: 2, total: 4 })
    expect(await queue.getJob(before.id)).toMatchObject({ state: 'succeeded' })
    expect(await queue.getJob(after.id)).toMatchObject({ state: 'succeeded' })
    expect(await queue.getJob(exited.id)).toMatchObject({
      state: 'retryable',
      errors: [{ name: 'IsolatedRunnerExitError', message: expect.stringContaining('exited with code 3') }],
    })
    expect(await queue.getJob(crashed.id)).toMatchObject({
      state: 'retryable',
      errors: [
        {
          name: 'IsolatedRunnerExitError',
          message: expect.stringMatching(/exited with code 1.*crashed outside the handler/),
        },
      ],
    })
    const outcome = await queue.performJob(work, { do: 'exit', code: 7 })
    expect(outcome).toMatchObject({ outcome: 'retry', error: expect.any(IsolatedRunnerExitError) })
    expect((outcome as { error: IsolatedRunnerExitError }).error.exitCode).toBe(7)
  })
})

describe('a handler module without isolation', () => {
  it('runs in this process (imported on first use): drain and performJob see the same process', async () => {
    const queue = createMemoryQueue({ clock: createSystemClock() })
    queue.register(plain, plainModule)
    const outcome = await queue.performJob(plain, { n: 2 })
    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      result: { echo: { n: 2 }, pid: process.pid, threadId: threadId },
    })
    await queue.enqueue(plain, { n: 3 })
    expect(await queue.drain()).toMatchObject({ succeeded: 1 })
    await queue.shutdown()
  })
})

describe('registering isolated handlers', () => {
  it('refuses a function with isolation, a relative path, a bad mode and a transactional module, saying how to fix it', () => {
    const queue = createMemoryQueue()
    expect(() => queue.register(plain, async () => {}, { isolation: 'thread' })).toThrow(
      /isolation runs a handler module, not a function \(so do execArgv and abortGraceMs\); pass its URL/,
    )
    expect(() => queue.register(plain, './plain.handler.js', { isolation: 'thread' })).toThrow(
      /must be absolute/,
    )
    expect(() => queue.register(plain, plainModule, { isolation: 'fiber' as unknown as 'thread' })).toThrow(
      InvalidArgumentError,
    )
    expect(() => queue.register(plain, plainModule, { isolation: 'process', transactional: true })).toThrow(
      /cannot run in the job's transaction/,
    )
    expect(() => queue.register(plain, plainModule, { execArgv: 'x' as unknown as string[] })).toThrow(
      /execArgv must be an array/,
    )
  })
})
