/**
 * The completer's batching: one write per turn, callbacks shared by a batch run once per batch; its
 * `onApplied` (the outcome events) hears of a completion only after its write, never of one skipped
 * or given up.
 */
import { describe, expect, it } from 'vitest'
import {
  CompletionNotWrittenError,
  StorageConflictError,
  StorageUnavailableError,
} from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { type Clock, ManualClock } from '../../src/core/ports/clock.js'
import type { Completion, JobStore } from '../../src/core/ports/store.js'
import { Completer } from '../../src/core/runtime/completer.js'
import { nextTurn, waitFor } from '../support/wait.js'

function recordingStore(): { store: JobStore; writes: string[][] } {
  const writes: string[][] = []
  const store = {
    completeJobs: async (params: { completions: readonly Completion[] }) => {
      writes.push(params.completions.map((c) => c.id))
      return { skipped: [] }
    },
  } as unknown as JobStore
  return { store, writes }
}

it('writes completions added in one turn together and runs a shared callback once per batch', async () => {
  const { store, writes } = recordingStore()
  const completer = new Completer({ store, clock: new ManualClock(0), onError: () => {} })
  let shared = 0
  const onWritten = () => shared++
  for (const id of ['1', '2', '3']) completer.add({ id, outcome: 'succeeded' }, onWritten)
  const promised = completer.complete({ id: '4', outcome: 'succeeded' })
  completer.add({ id: '5', outcome: 'succeeded' })
  await promised
  await completer.idle()
  expect(writes).toEqual([['1', '2', '3', '4', '5']])
  expect(shared).toBe(1)
  expect(completer.pendingCount).toBe(0)
})

it('a callback that throws is reported and does not stop the others', async () => {
  const { store } = recordingStore()
  const errors: unknown[] = []
  const completer = new Completer({ store, clock: new ManualClock(0), onError: (e) => errors.push(e) })
  let after = 0
  completer.add({ id: '1', outcome: 'succeeded' }, () => {
    throw new Error('hook failed')
  })
  completer.add({ id: '2', outcome: 'succeeded' }, () => after++)
  await completer.idle()
  expect(after).toBe(1)
  expect(errors).toHaveLength(1)
})

describe('onApplied: outcomes are heard after their write', () => {
  const job = (id: string) => ({ id }) as JobRecord

  it('hears each completion added with its job once written, not the ones the store skipped, before the callbacks', async () => {
    const order: string[] = []
    let finishWrite!: () => void
    const store = {
      completeJobs: async () => {
        order.push('write started')
        await new Promise<void>((resolve) => {
          finishWrite = resolve
        })
        order.push('write done')
        return { skipped: ['2'] }
      },
    } as unknown as JobStore
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: () => {},
      onApplied: (j, c, durationMs) => order.push(`applied ${j.id} ${c.outcome} ${durationMs}`),
    })
    const wake = () => order.push('wake')
    completer.add({ id: '1', outcome: 'succeeded' }, wake, job('1'), 7)
    completer.add({ id: '2', outcome: 'succeeded' }, wake, job('2'), 8)
    completer.add({ id: '3', outcome: 'released' }, wake)
    await waitFor(() => order.includes('write started'))
    expect(order).toEqual(['write started'])
    finishWrite()
    await completer.idle()
    expect(order).toEqual(['write started', 'write done', 'applied 1 succeeded 7', 'wake'])
  })

  it('hears nothing of a completion given up; the rest of its batch is heard', async () => {
    const heard: string[] = []
    const errors: unknown[] = []
    const store = {
      completeJobs: async (params: { completions: readonly Completion[] }) => {
        if (params.completions.some((c) => c.id === 'bad')) throw new Error('refused')
        return { skipped: [] }
      },
    } as unknown as JobStore
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      onApplied: (j) => heard.push(j.id),
    })
    for (const id of ['a', 'bad', 'b']) completer.add({ id, outcome: 'succeeded' }, undefined, job(id))
    await completer.idle()
    expect(heard).toEqual(['a', 'b'])
    expect(errors.at(-1)).toBeInstanceOf(CompletionNotWrittenError)
  })

  it('a listener that throws is reported and the others are still heard', async () => {
    const { store } = recordingStore()
    const errors: unknown[] = []
    const heard: string[] = []
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      onApplied: (j) => {
        heard.push(j.id)
        if (j.id === '1') throw new Error('listener failed')
      },
    })
    completer.add({ id: '1', outcome: 'succeeded' }, undefined, job('1'))
    completer.add({ id: '2', outcome: 'succeeded' }, undefined, job('2'))
    await completer.idle()
    expect(heard).toEqual(['1', '2'])
    expect(errors).toHaveLength(1)
  })
})

/** A store whose writes each wait until the test releases them, in order. */
function gatedStore(): { store: JobStore; writes: string[][]; release: () => void } {
  const writes: string[][] = []
  const gates: (() => void)[] = []
  const store = {
    completeJobs: async (params: { completions: readonly Completion[] }) => {
      writes.push(params.completions.map((c) => c.id))
      await new Promise<void>((resolve) => gates.push(resolve))
      return { skipped: [] }
    },
  } as unknown as JobStore
  return { store, writes, release: () => gates.shift()?.() }
}

it('idle() waits for the write in flight and for completions queued behind it', async () => {
  const { store, writes, release } = gatedStore()
  const completer = new Completer({ store, clock: new ManualClock(0), onError: () => {}, maxInFlight: 1 })
  completer.add({ id: '1', outcome: 'succeeded' })
  let idle = false
  const idled = completer.idle().then(() => {
    idle = true
  })
  // Queued, not yet written: idle() must not resolve.
  await nextTurn()
  await waitFor(() => writes.length === 1, { message: 'the first write to start' })
  await nextTurn()
  expect(idle).toBe(false)
  // A write in flight and one more completion queued behind it (one write at a time).
  completer.add({ id: '2', outcome: 'succeeded' })
  await nextTurn()
  expect(writes).toEqual([['1']])
  expect(idle).toBe(false)
  release()
  await waitFor(() => writes.length === 2, { message: 'the second write to start' })
  await nextTurn()
  expect(idle).toBe(false)
  release()
  await idled
  expect(writes).toEqual([['1'], ['2']])
  expect(completer.pendingCount).toBe(0)
})

it('idle() resolves at once when nothing is queued or in flight', async () => {
  const { store, writes } = gatedStore()
  const completer = new Completer({ store, clock: new ManualClock(0), onError: () => {} })
  await completer.idle()
  expect(writes).toEqual([])
})

describe('failed writes', () => {
  const job = (id: string) => ({ id }) as JobRecord
  const noDelay = { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 }

  /** A store that fails its writes with the given errors, in order, then writes. */
  function failingStore(failures: unknown[]) {
    const writes: string[][] = []
    const store = {
      completeJobs: async (params: { completions: readonly Completion[] }) => {
        writes.push(params.completions.map((c) => c.id))
        if (failures.length > 0) throw failures.shift()
        return { skipped: [] }
      },
    } as unknown as JobStore
    return { store, writes }
  }

  it('retries a transient error until the write goes through, reporting each failure', async () => {
    const unavailable = new StorageUnavailableError('db down')
    const conflict = new StorageConflictError('deadlock')
    const { store, writes } = failingStore([unavailable, conflict])
    const errors: unknown[] = []
    const heard: string[] = []
    let written = 0
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      retry: noDelay,
      onApplied: (j) => heard.push(j.id),
    })
    completer.add({ id: 'a', outcome: 'succeeded' }, () => written++, job('a'))
    completer.add({ id: 'b', outcome: 'succeeded' }, () => written++, job('b'))
    await completer.idle()
    expect(writes).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ])
    expect(errors).toEqual([unavailable, conflict])
    expect(heard).toEqual(['a', 'b'])
    expect(written).toBe(2)
  })

  it('gives up a transient error after retry.attempts tries, the batch whole, and still runs its callbacks', async () => {
    const failures = [1, 2, 3].map((n) => new StorageUnavailableError(`db down ${n}`))
    const { store, writes } = failingStore([...failures])
    const errors: unknown[] = []
    const heard: string[] = []
    let written = 0
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      retry: noDelay,
      onApplied: (j) => heard.push(j.id),
    })
    completer.add({ id: 'a', outcome: 'succeeded' }, () => written++, job('a'))
    completer.add({ id: 'b', outcome: 'succeeded' }, () => written++, job('b'))
    await completer.idle()
    expect(writes).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ])
    expect(errors.slice(0, 3)).toEqual(failures)
    expect(errors).toHaveLength(4)
    const gaveUp = errors[3] as CompletionNotWrittenError
    expect(gaveUp).toBeInstanceOf(CompletionNotWrittenError)
    expect(gaveUp.message).toBe(
      'Conveyor gave up writing the outcome of jobs a, b after 3 attempts (db down 3); they stay running until the rescue returns them to the queue.',
    )
    expect(gaveUp.cause).toBe(failures[2])
    expect(heard).toEqual([])
    expect(written).toBe(2)
  })

  it('does not retry an error retrying cannot fix: one job is given up after one attempt', async () => {
    const refused = new Error('violates a check')
    const { store, writes } = failingStore([refused])
    const errors: unknown[] = []
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      retry: noDelay,
    })
    await completer.complete({ id: 'a', outcome: 'succeeded' })
    expect(writes).toEqual([['a']])
    expect(errors[0]).toBe(refused)
    expect((errors[1] as Error).message).toBe(
      'Conveyor gave up writing the outcome of job a after 1 attempt (violates a check); it stays running until the rescue returns it to the queue.',
    )
    expect(errors).toHaveLength(2)
  })

  it('names a thrown value that is not an Error by its string, and the first ten jobs of a larger batch', async () => {
    const { store } = failingStore(['plain failure'])
    const errors: unknown[] = []
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      retry: { ...noDelay, attempts: 1 },
    })
    await completer.complete({ id: 'a', outcome: 'succeeded' })
    expect((errors[1] as Error).message).toContain('after 1 attempt (plain failure); it stays running')

    const eleven = Array.from({ length: 11 }, (_, i) => String(i + 1))
    const down = new StorageUnavailableError('db down')
    const many = failingStore([down])
    const manyErrors: unknown[] = []
    const completer2 = new Completer({
      store: many.store,
      clock: new ManualClock(0),
      onError: (e) => manyErrors.push(e),
      retry: { ...noDelay, attempts: 1 },
    })
    for (const id of eleven) completer2.add({ id, outcome: 'succeeded' })
    await completer2.idle()
    expect(many.writes).toEqual([eleven])
    expect((manyErrors[1] as Error).message).toBe(
      'Conveyor gave up writing the outcome of jobs 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... after 1 attempt (db down); they stay running until the rescue returns them to the queue.',
    )
    const ten = failingStore([down])
    const tenErrors: unknown[] = []
    const completer3 = new Completer({
      store: ten.store,
      clock: new ManualClock(0),
      onError: (e) => tenErrors.push(e),
      retry: { ...noDelay, attempts: 1 },
    })
    for (const id of eleven.slice(0, 10)) completer3.add({ id, outcome: 'succeeded' })
    await completer3.idle()
    expect((tenErrors[1] as Error).message).toContain('outcome of jobs 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 after')
  })

  it('splits a batch on an error retrying cannot fix: each completion is written alone, only the bad one given up', async () => {
    const writes: string[][] = []
    const store = {
      completeJobs: async (params: { completions: readonly Completion[] }) => {
        writes.push(params.completions.map((c) => c.id))
        if (params.completions.some((c) => c.id === 'bad')) throw new Error('refused')
        return { skipped: params.completions.filter((c) => c.id === 'gone').map((c) => c.id) }
      },
    } as unknown as JobStore
    const errors: unknown[] = []
    const heard: string[] = []
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: (e) => errors.push(e),
      retry: noDelay,
      onApplied: (j) => heard.push(j.id),
    })
    for (const id of ['a', 'bad', 'gone', 'b'])
      completer.add({ id, outcome: 'succeeded' }, undefined, job(id))
    await completer.idle()
    expect(writes).toEqual([['a', 'bad', 'gone', 'b'], ['a'], ['bad'], ['gone'], ['b']])
    expect(heard).toEqual(['a', 'b'])
    expect(errors).toHaveLength(3)
    expect((errors[2] as Error).message).toContain('outcome of job bad after 1 attempt (refused)')
  })
})

describe('batches and writes in flight', () => {
  it('writes at most maxBatch completions at once, in order, and at most maxInFlight writes at a time', async () => {
    const { store, writes, release } = gatedStore()
    const completer = new Completer({
      store,
      clock: new ManualClock(0),
      onError: () => {},
      maxBatch: 2,
      maxInFlight: 2,
    })
    for (const id of ['1', '2', '3', '4', '5']) completer.add({ id, outcome: 'succeeded' })
    await waitFor(() => writes.length === 2, { message: 'two writes in flight' })
    for (let i = 0; i < 3; i++) await nextTurn()
    expect(writes).toEqual([
      ['1', '2'],
      ['3', '4'],
    ])
    expect(completer.pendingCount).toBe(1)
    release()
    await waitFor(() => writes.length === 3, { message: 'the third write' })
    release()
    release()
    await completer.idle()
    expect(writes).toEqual([['1', '2'], ['3', '4'], ['5']])
  })

  it('a batch of exactly maxBatch completions is one write', async () => {
    const { store, writes } = recordingStore()
    const completer = new Completer({ store, clock: new ManualClock(0), onError: () => {}, maxBatch: 3 })
    for (const id of ['1', '2', '3']) completer.add({ id, outcome: 'succeeded' })
    await completer.idle()
    expect(writes).toEqual([['1', '2', '3']])
  })

  it('by default writes up to 1000 completions at once and two writes at a time', async () => {
    const { store, writes } = recordingStore()
    const completer = new Completer({ store, clock: new ManualClock(0), onError: () => {} })
    for (let i = 0; i < 1001; i++) completer.add({ id: String(i), outcome: 'succeeded' })
    await completer.idle()
    expect(writes.map((w) => w.length)).toEqual([1000, 1])

    const gated = gatedStore()
    const twoAtATime = new Completer({
      store: gated.store,
      clock: new ManualClock(0),
      onError: () => {},
      maxBatch: 1,
    })
    for (const id of ['1', '2', '3']) twoAtATime.add({ id, outcome: 'succeeded' })
    await waitFor(() => gated.writes.length === 2, { message: 'two writes in flight' })
    for (let i = 0; i < 3; i++) await nextTurn()
    expect(gated.writes).toHaveLength(2)
    for (let i = 0; i < 3; i++) gated.release()
    await waitFor(() => gated.writes.length === 3, { message: 'the third write' })
    gated.release()
    await twoAtATime.idle()
  })

  it("passes the clock's time to the store, and none with a real-time clock (the store reads its own)", async () => {
    const nows: unknown[] = []
    const store = {
      completeJobs: async (params: { now?: number }) => {
        nows.push(params.now)
        return { skipped: [] }
      },
    } as unknown as JobStore
    await new Completer({ store, clock: new ManualClock(42), onError: () => {} }).complete({
      id: '1',
      outcome: 'succeeded',
    })
    const realTime = { realTime: true, now: () => 7, setTimeout: () => ({ cancel() {} }) } as unknown as Clock
    await new Completer({ store, clock: realTime, onError: () => {} }).complete({
      id: '2',
      outcome: 'succeeded',
    })
    expect(nows).toEqual([42, undefined])
  })
})

it('keeps each completion with its own callback, job and duration across writes, and reports nothing for those without', async () => {
  const { store, writes, release } = gatedStore()
  const errors: unknown[] = []
  const heard: string[] = []
  const completer = new Completer({
    store,
    clock: new ManualClock(0),
    onError: (e) => errors.push(e),
    maxInFlight: 1,
    onApplied: (j, c, durationMs) => heard.push(`${j.id} ${c.id} ${durationMs}`),
  })
  const called: string[] = []
  completer.add({ id: '1', outcome: 'succeeded' }, () => called.push('1'), { id: '1' } as JobRecord, 10)
  completer.add({ id: '2', outcome: 'succeeded' })
  await waitFor(() => writes.length === 1, { message: 'the first write' })
  // Queued behind the first write: a completion without callback or job, then one with both.
  completer.add({ id: '3', outcome: 'succeeded' })
  completer.add({ id: '4', outcome: 'succeeded' }, () => called.push('4'), { id: '4' } as JobRecord, 40)
  completer.add({ id: '5', outcome: 'succeeded' })
  release()
  await waitFor(() => writes.length === 2, { message: 'the second write' })
  release()
  await completer.idle()
  expect(writes).toEqual([
    ['1', '2'],
    ['3', '4', '5'],
  ])
  expect(heard).toEqual(['1 1 10', '4 4 40'])
  expect(called).toEqual(['1', '4'])
  expect(errors).toEqual([])
})

it('a completer without onApplied takes completions with their jobs and reports nothing', async () => {
  const { store, writes } = recordingStore()
  const errors: unknown[] = []
  const completer = new Completer({ store, clock: new ManualClock(0), onError: (e) => errors.push(e) })
  await completer.complete({ id: '1', outcome: 'succeeded' })
  completer.add({ id: '2', outcome: 'succeeded' }, undefined, { id: '2' } as JobRecord, 5)
  await completer.idle()
  expect(writes).toEqual([['1'], ['2']])
  expect(errors).toEqual([])
})
