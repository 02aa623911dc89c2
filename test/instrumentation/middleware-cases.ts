/**
 * Middleware cases, run on every adapter: insert hooks around enqueue calls (seeing the call, editing
 * the rows about to be stored), run hooks around each attempt (seeing the job and its outcome),
 * their order, tracing as the outermost middleware, and the validation of the option.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { trace } from '@opentelemetry/api'
import { expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { InsertCall, Middleware } from '../../src/core/ports/middleware.js'
import { buildReport, drainAll, type MakeQueue, sendEmail } from './harness.js'
import type { TestTracing } from './otel.js'

/** Registers the middleware cases; `make` builds queues on the adapter under test. */
export function middlewareCases(make: MakeQueue, otel: TestTracing): void {
  it('insert hooks see each call and edit the rows about to be stored, outermost first', async () => {
    const calls: InsertCall[] = []
    const stamp = (name: string): Middleware => ({
      name,
      insert: (call, next) => {
        if (name === 'outer') calls.push(call)
        return next((row) => ({
          ...row,
          metadata: { ...row.metadata, seen: [...seenOf(row.metadata), name] },
        }))
      },
    })
    const queue = make({ tracing: { enabled: false }, middleware: [stamp('outer'), stamp('inner')] })
    const single = await queue.enqueue(sendEmail, { to: 'a@example.com' }, { metadata: { tenant: 'acme' } })
    const many = await queue.enqueueMany([
      { job: sendEmail, payload: { to: 'b@example.com' } },
      { job: buildReport, payload: { id: 1 } },
    ])
    expect(calls).toEqual([
      { operation: 'enqueue', count: 1, queue: 'emails', kind: 'send-email' },
      { operation: 'enqueueMany', count: 2, queue: undefined, kind: undefined },
    ])
    expect((await queue.getJob(single.id))?.metadata).toEqual({ tenant: 'acme', seen: ['outer', 'inner'] })
    for (const { id } of many)
      expect((await queue.getJob(id))?.metadata).toEqual({ seen: ['outer', 'inner'] })
  })

  it('an insert hook that throws fails the enqueue and stores nothing', async () => {
    const queue = make({
      middleware: [
        {
          insert: async (call) => {
            throw new Error(`refused ${call.kind}`)
          },
        },
      ],
    })
    await expect(queue.enqueue(sendEmail, { to: 'a@example.com' })).rejects.toThrow('refused send-email')
    expect(await queue.listJobs()).toEqual([])
  })

  it('an edit that returns no row is a typed error naming the middleware', async () => {
    const queue = make({
      middleware: [{ name: 'broken', insert: (_call, next) => next(() => null as never) }],
    })
    const attempt = queue.enqueue(sendEmail, { to: 'a@example.com' })
    await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(attempt).rejects.toThrow(/"broken".*return the row/)
    expect(await queue.listJobs()).toEqual([])
  })

  it('run hooks wrap each attempt, outermost first, around the handler, and see how it ended', async () => {
    const seen: string[] = []
    const store = new AsyncLocalStorage<string>()
    const wrap = (name: string): Middleware => ({
      name,
      run: async (job, next) => {
        seen.push(`${name} > ${job.kind}#${job.attempt}`)
        const result = await (name === 'outer' ? store.run('from-middleware', next) : next())
        seen.push(
          `${name} < ${result.completion.outcome}${result.completion.error ? ` (${result.completion.error.message})` : ''}`,
        )
        return result
      },
    })
    const queue = make({ middleware: [wrap('outer'), wrap('inner')] })
    queue.register(sendEmail, async (_payload, ctx) => {
      seen.push(`handler ${store.getStore()}`)
      if (ctx.attempt === 1) throw new Error('smtp down')
    })
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    expect(seen).toEqual([
      'outer > send-email#1',
      'inner > send-email#1',
      'handler from-middleware',
      'inner < retry (smtp down)',
      'outer < retry (smtp down)',
      'outer > send-email#2',
      'inner > send-email#2',
      'handler from-middleware',
      'inner < succeeded',
      'outer < succeeded',
    ])
  })

  it('tracing is the outermost middleware: user hooks run inside its spans', async () => {
    const active: string[] = []
    const spanName = () => {
      const span = trace.getActiveSpan() as unknown as { name?: string } | undefined
      return span?.name ?? 'none'
    }
    const queue = make({
      tracing: { tracerProvider: otel.provider },
      middleware: [
        {
          insert: (_call, next) => {
            active.push(`insert in ${spanName()}`)
            return next()
          },
          run: (_job, next) => {
            active.push(`run in ${spanName()}`)
            return next()
          },
        },
      ],
    })
    queue.register(sendEmail, async () => {})
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    expect(active).toEqual(['insert in send emails', 'run in process emails'])
  })

  it('rejects a middleware option that is not an array of hook objects, saying what to pass', () => {
    expect(() => make({ middleware: {} as never })).toThrow(/middleware must be an array/)
    expect(() => make({ middleware: [null as never] })).toThrow(/middleware\[0\] must be an object/)
    expect(() => make({ middleware: [{ run: 'yes' as never }] })).toThrow(
      /middleware\[0\]\.run must be a function \(\(job, next\) => next\(\)\)/,
    )
    expect(() => make({ middleware: [{ run: async (_j, n) => n() }, { insert: 1 as never }] })).toThrow(
      InvalidArgumentError,
    )
    expect(() => make({ middleware: [{ name: 3 as never }] })).toThrow(
      /middleware\[0\]\.name must be a string/,
    )
  })
}

function seenOf(metadata: unknown): string[] {
  const seen = (metadata as { seen?: unknown } | null)?.seen
  return Array.isArray(seen) ? (seen as string[]) : []
}
