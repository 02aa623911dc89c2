/**
 * The completer's batching: one write per turn, callbacks shared by a batch run once per batch; its
 * `onApplied` (the outcome events) hears of a completion only after its write, never of one skipped
 * or given up.
 */
import { describe, expect, it } from 'vitest'
import { CompletionNotWrittenError } from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { ManualClock } from '../../src/core/ports/clock.js'
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
