/**
 * Per-run log cases, run on every adapter: `ctx.log` lines are kept with the job per run (bounded
 * in lines and runs), read back by `getJob` only, and forwarded to the queue's logger.
 */
import { expect, it } from 'vitest'
import { RUN_LOGS_KEPT } from '../../src/core/domain/job.js'
import type { LogFields, Logger } from '../../src/core/ports/logger.js'
import { MAX_RUN_LOG_LINES } from '../../src/core/runtime/run-logger.js'
import { buildReport, drainAll, type MakeQueue, sendEmail } from './harness.js'

/** Registers the per-run log cases; `make` builds queues on the adapter under test. */
export function logsCases(make: MakeQueue): void {
  it('keeps each run’s lines with the job, with levels and JSON copies of their fields', async () => {
    const queue = make()
    queue.register(sendEmail, async ({ to }, ctx) => {
      ctx.log.info('sending', { to, attempt: ctx.attempt })
      if (ctx.attempt === 1) {
        ctx.log.error('smtp refused', { error: new RangeError('421'), big: 10n })
        throw new Error('smtp down')
      }
      ctx.log.debug('sent')
    })
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    const job = await queue.getJob(id)
    expect(job?.state).toBe('succeeded')
    const logs = job?.logs ?? []
    expect(logs.map((r) => r.attempt)).toEqual([1, 2])
    expect(logs[0]?.lines.map((l) => [l.level, l.message, l.fields])).toEqual([
      ['info', 'sending', { to: 'a@example.com', attempt: 1 }],
      [
        'error',
        'smtp refused',
        { error: { name: 'RangeError', message: '421', stack: expect.stringContaining('421') }, big: '10' },
      ],
    ])
    expect(logs[1]?.lines.map((l) => [l.level, l.message, l.fields])).toEqual([
      ['info', 'sending', { to: 'a@example.com', attempt: 2 }],
      ['debug', 'sent', undefined],
    ])
    for (const line of logs.flatMap((r) => r.lines)) expect(typeof line.at).toBe('number')
    expect(logs[0]?.dropped).toBeUndefined()
  })

  it('stores nothing for runs that log nothing', async () => {
    const queue = make()
    queue.register(sendEmail, async () => {})
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    const job = await queue.getJob(id)
    expect(job?.state).toBe('succeeded')
    expect(job?.logs).toBeUndefined()
  })

  it('keeps the logs of failed runs too, and of a run that failed the job', async () => {
    const queue = make()
    queue.register(buildReport, async (_, ctx) => {
      ctx.log.warn('giving up')
      throw new Error('boom')
    })
    const { id } = await queue.enqueue(buildReport, { id: 1 })
    await drainAll(queue)
    const job = await queue.getJob(id)
    expect(job?.state).toBe('failed')
    expect(job?.logs).toEqual([
      { attempt: 1, lines: [expect.objectContaining({ level: 'warn', message: 'giving up' })] },
    ])
  })

  it(`keeps at most ${MAX_RUN_LOG_LINES} lines per run and counts the dropped ones`, async () => {
    const queue = make()
    queue.register(sendEmail, async (_, ctx) => {
      for (let i = 0; i < MAX_RUN_LOG_LINES + 50; i++) ctx.log.info(`line ${i}`)
    })
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    const [run] = (await queue.getJob(id))?.logs ?? []
    expect(run?.lines).toHaveLength(MAX_RUN_LOG_LINES)
    expect(run?.lines.at(-1)?.message).toBe(`line ${MAX_RUN_LOG_LINES - 1}`)
    expect(run?.dropped).toBe(50)
  })

  it(`keeps the logs of the last ${RUN_LOGS_KEPT} runs`, async () => {
    const queue = make()
    let run = 0
    queue.register(sendEmail, async (_, ctx) => {
      run++
      ctx.log.info(`run ${run}`)
      if (run < RUN_LOGS_KEPT + 3) return ctx.snooze(0)
    })
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    const job = await queue.getJob(id)
    expect(job?.state).toBe('succeeded')
    expect(job?.logs?.map((r) => r.lines[0]?.message)).toEqual(
      Array.from({ length: RUN_LOGS_KEPT }, (_, i) => `run ${i + 4}`),
    )
  })

  it('leaves logs out of claims, lists and events', async () => {
    const queue = make()
    const seen: unknown[] = []
    queue.on('started', ({ job }) => seen.push(job.logs))
    queue.register(sendEmail, async (_, ctx) => {
      seen.push(ctx.job.logs)
      ctx.log.info('hello')
      if (ctx.attempt === 1) throw new Error('again')
    })
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    expect(seen).toEqual([undefined, undefined, undefined, undefined])
    const [listed] = await queue.listJobs({ ids: [id] })
    expect(listed?.logs).toBeUndefined()
    expect((await queue.getJob(id))?.logs).toHaveLength(2)
  })

  it('forwards every line to the queue’s logger with the job’s fields', async () => {
    const received: [string, string, LogFields | undefined][] = []
    const logger: Logger = {
      debug: (m, f) => received.push(['debug', m, f]),
      info: (m, f) => received.push(['info', m, f]),
      warn: (m, f) => received.push(['warn', m, f]),
      error: (m, f) => received.push(['error', m, f]),
    }
    const queue = make({ logger })
    queue.register(sendEmail, async (_, ctx) => {
      ctx.log.info('hello', { n: 1 })
    })
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    expect(received.filter(([, m]) => m === 'hello')).toEqual([
      ['info', 'hello', { jobId: id, kind: 'send-email', attempt: 1, n: 1 }],
    ])
  })

  it('deletes the logs with the job', async () => {
    const queue = make()
    queue.register(sendEmail, async (_, ctx) => ctx.log.info('hello'))
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    expect((await queue.getJob(id))?.logs).toHaveLength(1)
    expect(await queue.deleteJobs({ ids: [id] })).toBe(1)
    expect(await queue.getJob(id)).toBeNull()
  })
}
