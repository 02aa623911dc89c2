/**
 * Shared helpers of the conformance cases: per-test harnesses that are always closed, typed error
 * checks, promise gates that hold handlers open, and waits that drive the manual clock. Cases use
 * only the public queue API through these helpers, never adapter internals.
 */
import { afterEach, expect } from 'vitest'
import type { QueueOptions } from '../../src/core/config/queue-options.js'
import { ConveyorError } from '../../src/core/domain/errors.js'
import type { JobRecord, JobState } from '../../src/core/domain/job.js'
import { waitFor } from '../support/wait.js'
import type { Harness, HarnessFactory } from './harness.js'

/** Harness options (everything but the clock, which is always the harness's). */
export type HarnessOptions = Omit<QueueOptions, 'clock'>

/**
 * Returns `open(options?)`, which builds a fresh harness for the current test; every harness opened
 * in a test is closed after it (advancing the clock by zero so a zero grace period can expire).
 */
export function useHarness(factory: HarnessFactory): (options?: HarnessOptions) => Promise<Harness> {
  const opened: Harness[] = []
  afterEach(async () => {
    const all = opened.splice(0)
    await Promise.all(all.map((h) => closeHarness(h)))
  })
  return async (options) => {
    const h = await factory(options)
    opened.push(h)
    return h
  }
}

/** Closes a harness, firing zero-delay clock timers until the shutdown settles. */
export async function closeHarness(h: Harness): Promise<void> {
  let settled = false
  let polls = 0
  const done = h.close().finally(() => {
    settled = true
  })
  await waitFor(
    () => {
      // A zero grace period expires on the next advance; a case that left a longer shutdown
      // pending gets its grace period run out after a while instead of hanging the suite.
      if (!settled) h.clock.advance(++polls > 200 ? 3_600_000 : 0)
      return settled
    },
    { message: 'harness close' },
  )
  await done
}

/**
 * Runs `run` (sync throw or rejection) and checks it fails with a `ConveyorError` of `code` (or one
 * of several acceptable codes) whose message contains each fragment.
 */
export async function expectError(
  run: () => unknown,
  code: string | readonly string[],
  ...fragments: (string | RegExp)[]
): Promise<ConveyorError> {
  let caught: unknown
  let threw = false
  try {
    await run()
  } catch (error) {
    caught = error
    threw = true
  }
  expect(threw, `expected an error with code ${String(code)}`).toBe(true)
  expect(caught).toBeInstanceOf(ConveyorError)
  const error = caught as ConveyorError
  if (typeof code === 'string') expect(error.code).toBe(code)
  else expect(code).toContain(error.code)
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(error.message).toContain(fragment)
    else expect(error.message).toMatch(fragment)
  }
  return error
}

/** A promise barrier: handlers `await g.wait()` until the test calls `g.open()`. */
export interface Gate {
  wait(): Promise<void>
  open(): void
  readonly isOpen: boolean
}

/** Creates a closed gate. */
export function gate(): Gate {
  let release!: () => void
  let isOpen = false
  const promise = new Promise<void>((resolve) => {
    release = resolve
  })
  return {
    wait: () => promise,
    open() {
      isOpen = true
      release()
    },
    get isOpen() {
      return isOpen
    },
  }
}

/** A promise that rejects with the signal's reason once it aborts (a handler "awaiting its signal"). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/**
 * Reads a job that must exist, through the store: a queue that was shut down refuses `getJob`, and
 * cases check what shutdown left behind.
 */
export async function job(h: Harness, id: string): Promise<JobRecord> {
  const record = await h.queue.store.getJob({ id })
  expect(record, `job ${id} should exist`).not.toBeNull()
  return record!
}

/** Waits until job `id` is in one of `states` and returns it. */
export function waitForState(h: Harness, id: string, ...states: JobState[]): Promise<JobRecord> {
  let last: JobRecord | null = null
  return waitFor(
    async () => {
      last = await h.queue.getJob(id)
      return last && states.includes(last.state) ? last : null
    },
    { message: `job ${id} to reach ${states.join('/')}` },
  ).catch((error: Error) => {
    const seen = last === null ? 'not found' : JSON.stringify(last)
    throw new Error(`${error.message}; last read: ${seen}`)
  })
}

/**
 * Waits for `check` while a started queue runs, advancing the manual clock by `stepMs` between
 * checks so that pollers and the scheduler (which wait on the clock) get to run.
 */
export function waitWhileTicking<T>(
  h: Harness,
  check: () => T | Promise<T>,
  stepMs = 1000,
): Promise<NonNullable<T>> {
  return waitFor(
    async () => {
      const value = await check()
      if (!value) h.clock.advance(stepMs)
      return value
    },
    { message: check.toString() },
  )
}

/** Lets the event loop run `turns` times (to show that something does NOT happen). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** Tracks how many handlers run at once (and the peak), optionally by key. */
export class ConcurrencyProbe {
  active = 0
  peak = 0
  readonly activeByKey = new Map<string, number>()
  readonly peakByKey = new Map<string, number>()

  /** Marks a handler as running under `key` until the returned function is called. */
  enter(key = '', weight = 1): () => void {
    this.active += weight
    this.peak = Math.max(this.peak, this.active)
    const n = (this.activeByKey.get(key) ?? 0) + 1
    this.activeByKey.set(key, n)
    this.peakByKey.set(key, Math.max(this.peakByKey.get(key) ?? 0, n))
    return () => {
      this.active -= weight
      this.activeByKey.set(key, (this.activeByKey.get(key) ?? 1) - 1)
    }
  }
}

/**
 * Resolves once a started queue's store delivers wake-ups: a Postgres store listens for
 * notifications on a connection of its own, which connects after `start()`, so a notification sent
 * before then is missed (workers find the job at their next poll). Stores without one resolve at once.
 */
export async function wakeUpsReady(h: Harness): Promise<void> {
  await (h.queue.store as { whenListening?: () => Promise<void> }).whenListening?.()
}
