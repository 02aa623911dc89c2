/**
 * The middleware chain on its own: insert hooks and run hooks, each outermost first; the edits of
 * insert hooks chained (outer, then inner) and checked; middleware without a hook of a kind left out
 * of that kind's chain.
 */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { InsertCall, Middleware, RowEdit, RunReport } from '../../src/core/ports/middleware.js'
import type { InsertOutcome, NewJob } from '../../src/core/ports/store.js'
import { MiddlewareChain } from '../../src/core/runtime/middleware-chain.js'

const call: InsertCall = { operation: 'enqueue', count: 1, queue: 'default', kind: 'email' }
const row = { kind: 'email', payload: { to: 'a' } } as unknown as NewJob
const outcomes = [{ id: '1' }] as unknown as readonly InsertOutcome[]
const job = { id: '7', kind: 'email' } as JobRecord
const report: RunReport = { completion: { outcome: 'succeeded' } }

/** A store step that records the edit it got and the row it makes of `row`. */
function recordingStore() {
  const got: { edit: RowEdit | undefined; stored: NewJob | undefined }[] = []
  const store = async (edit: RowEdit | undefined) => {
    got.push({ edit, stored: edit ? edit(row) : undefined })
    return outcomes
  }
  return { got, store }
}

/** Insert middleware that logs its call and passes `edit` to next. */
function inserting(name: string, log: string[], edit?: unknown): Middleware {
  return {
    name,
    insert: async (c, next) => {
      log.push(`${name} ${c.operation} ${c.kind}`)
      const result = await (next as (edit?: unknown) => Promise<readonly InsertOutcome[]>)(edit)
      log.push(`${name} done`)
      return result
    },
  }
}

/** Run middleware that logs around next, with the job it got. */
function running(name: string, log: string[]): Middleware {
  return {
    name,
    run: async (j, next) => {
      log.push(`${name} before ${j.id}`)
      const result = await next()
      log.push(`${name} after ${result.completion.outcome}`)
      return result
    },
  }
}

describe('insert hooks', () => {
  it('without insert hooks, stores at once with no edit (run-only middleware is not an insert hook)', async () => {
    const runLog: string[] = []
    const chain = new MiddlewareChain([running('r', runLog)])
    expect(chain.wrapsInserts).toBe(false)
    const { got, store } = recordingStore()
    expect(await chain.insert(call, store)).toBe(outcomes)
    expect(got).toEqual([{ edit: undefined, stored: undefined }])
    expect(runLog).toEqual([])
  })

  it('wrapsInserts with one insert hook', () => {
    expect(new MiddlewareChain([inserting('a', [])]).wrapsInserts).toBe(true)
    expect(new MiddlewareChain([]).wrapsInserts).toBe(false)
  })

  it('runs the hooks outermost first with the call, and chains their edits outer then inner', async () => {
    const log: string[] = []
    const tag =
      (t: string): RowEdit =>
      (r) =>
        ({ ...r, tags: [...((r as { tags?: readonly string[] }).tags ?? []), t] }) as NewJob
    const chain = new MiddlewareChain([
      inserting('outer', log, tag('outer')),
      running('run-only', log),
      inserting('middle', log),
      inserting('inner', log, tag('inner')),
    ])
    const { got, store } = recordingStore()
    expect(await chain.insert(call, store)).toBe(outcomes)
    expect(log).toEqual([
      'outer enqueue email',
      'middle enqueue email',
      'inner enqueue email',
      'inner done',
      'middle done',
      'outer done',
    ])
    expect(got).toHaveLength(1)
    expect(got[0]!.stored).toEqual({ ...row, tags: ['outer', 'inner'] })
  })

  it('an edit given by one hook alone reaches the store (no edit from the others)', async () => {
    const tag: RowEdit = (r) => ({ ...r, priority: 3 }) as NewJob
    const { got, store } = recordingStore()
    await new MiddlewareChain([inserting('a', []), inserting('b', [], tag)]).insert(call, store)
    expect(got[0]!.stored).toEqual({ ...row, priority: 3 })
    const second = recordingStore()
    await new MiddlewareChain([inserting('a', [], tag), inserting('b', [])]).insert(call, second.store)
    expect(second.got[0]!.stored).toEqual({ ...row, priority: 3 })
  })

  it('next() given something other than a function is refused, naming the middleware', async () => {
    const { store } = recordingStore()
    await expect(new MiddlewareChain([inserting('tracer', [], 42)]).insert(call, store)).rejects.toThrow(
      new InvalidArgumentError(
        'Insert middleware "tracer" passed next() a number; pass nothing or a function (row) => row.',
      ),
    )
    const unnamed: Middleware = { insert: async (_c, next) => (next as (edit: unknown) => never)('x') }
    const rejected = new MiddlewareChain([unnamed]).insert(call, store)
    await expect(rejected).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(rejected).rejects.toThrow(
      'Insert middleware (unnamed) passed next() a string; pass nothing or a function (row) => row.',
    )
  })

  it('an edit that returns no row is refused when the row is stored, naming the middleware', async () => {
    const { store } = recordingStore()
    for (const [returned, shown] of [
      [null, 'null'],
      [undefined, 'undefined'],
      ['row', 'row'],
    ] as const) {
      const chain = new MiddlewareChain([inserting('stamp', [], () => returned)])
      const rejected = chain.insert(call, store)
      await expect(rejected).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(rejected).rejects.toThrow(
        `Insert middleware "stamp": its edit returned ${shown}; return the row (changed or not).`,
      )
    }
  })

  it('an inner edit that returns no row is refused after the outer edit ran', async () => {
    const { store } = recordingStore()
    const seen: NewJob[] = []
    const outer: RowEdit = (r) => ({ ...r, priority: 1 }) as NewJob
    const chain = new MiddlewareChain([
      inserting('outer', [], outer),
      inserting('inner', [], (r: NewJob) => {
        seen.push(r)
        return null
      }),
    ])
    await expect(chain.insert(call, store)).rejects.toThrow(
      'Insert middleware "inner": its edit returned null',
    )
    expect(seen).toEqual([{ ...row, priority: 1 }])
  })
})

describe('run hooks', () => {
  it('without run hooks, runs the attempt alone (insert-only middleware is not a run hook)', async () => {
    const log: string[] = []
    const chain = new MiddlewareChain([inserting('i', log)])
    expect(await chain.run(job, async () => report)).toBe(report)
    expect(log).toEqual([])
  })

  it('one hook wraps the attempt and gets the job', async () => {
    const log: string[] = []
    const chain = new MiddlewareChain([running('only', log), inserting('i', log)])
    const result = await chain.run(job, async () => {
      log.push('attempt')
      return report
    })
    expect(result).toBe(report)
    expect(log).toEqual(['only before 7', 'attempt', 'only after succeeded'])
  })

  it('several hooks wrap the attempt outermost first, each with the job', async () => {
    const log: string[] = []
    const chain = new MiddlewareChain([
      running('outer', log),
      inserting('insert-only', log),
      running('middle', log),
      running('inner', log),
    ])
    const result = await chain.run(job, async () => {
      log.push('attempt')
      return report
    })
    expect(result).toBe(report)
    expect(log).toEqual([
      'outer before 7',
      'middle before 7',
      'inner before 7',
      'attempt',
      'inner after succeeded',
      'middle after succeeded',
      'outer after succeeded',
    ])
  })
})
