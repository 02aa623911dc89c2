/**
 * The demo's job kinds, each showing one behaviour: quick jobs, a flaky one that fails and retries
 * with backoff (and sometimes runs out of attempts), a slow one in its own queue that stops early
 * when aborted, and a scheduled one; plus the random mix the demo keeps enqueueing.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { defineJob } from '../../core/domain/job-definition.js'
import type { EnqueueManyItem, JobContext, Queue } from '../../core/ports/queue.js'

/** Sends a (pretend) email: quick. */
export const sendEmail = defineJob<{ to: string; subject: string }>({ kind: 'demo.send-email' })

/** Calls a (pretend) webhook that answers 503 half of the time: retried with backoff, 4 attempts. */
export const callWebhook = defineJob<{ url: string; event: string }>({
  kind: 'demo.call-webhook',
  maxAttempts: 4,
  backoff: { baseMs: 2000, factor: 2, maxMs: 20_000 },
})

/** Builds a (pretend) report: slow, in the `reports` queue, aborted cleanly on shutdown. */
export const buildReport = defineJob<{ reportId: number; pages: number }>({
  kind: 'demo.build-report',
  queue: 'reports',
  timeoutMs: 60_000,
})

/** Cleans up (pretend) expired sessions; enqueued by a schedule every 10 seconds. */
export const cleanUp = defineJob<{ olderThanMinutes: number }>({ kind: 'demo.clean-up' })

/** The schedule of `cleanUp`. */
export const CLEAN_UP_SCHEDULE = '@every 10s'

/** Queues and worker concurrency of the demo. */
export const DEMO_QUEUES = { default: { concurrency: 4 }, reports: { concurrency: 2 } } as const

/** Registers the demo's handlers on `queue` and stores the clean-up schedule. */
export async function registerDemoJobs(queue: Queue, random: () => number = Math.random): Promise<void> {
  const between = (min: number, max: number) => Math.round(min + random() * (max - min))
  queue.register(sendEmail, async ({ to, subject }, ctx) => {
    await sleep(between(50, 300), undefined, { signal: ctx.signal })
    ctx.log.info('email sent', { to, subject })
  })
  queue.register(callWebhook, async ({ url, event }, ctx) => {
    await sleep(between(100, 500), undefined, { signal: ctx.signal })
    if (random() < 0.5) throw new Error(`${url} answered 503 Service Unavailable (attempt ${ctx.attempt})`)
    ctx.log.info('webhook delivered', { url, event })
  })
  queue.register(buildReport, async ({ reportId, pages }, ctx) => buildPages(reportId, pages, ctx))
  queue.register(cleanUp, async ({ olderThanMinutes }, ctx) => {
    await sleep(between(20, 100), undefined, { signal: ctx.signal })
    ctx.log.info('expired sessions removed', { olderThanMinutes, removed: between(0, 40) })
  })
  await queue.schedule(CLEAN_UP_SCHEDULE, cleanUp, { olderThanMinutes: 30 }, { name: 'demo.clean-up' })
}

async function buildPages(reportId: number, pages: number, ctx: JobContext): Promise<{ pages: number }> {
  for (let page = 1; page <= pages; page++) {
    await sleep(1000, undefined, { signal: ctx.signal })
    ctx.log.info('page rendered', { reportId, page, of: pages })
  }
  return { pages }
}

/** `count` random demo jobs: mostly emails and webhooks, now and then a report. */
export function randomDemoJobs(count: number, random: () => number = Math.random): EnqueueManyItem[] {
  const users = ['ada', 'grace', 'linus', 'margaret', 'alan', 'barbara', 'ken', 'radia']
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  return Array.from({ length: count }, (): EnqueueManyItem => {
    const roll = random()
    if (roll < 0.6) {
      const payload = {
        to: `${pick(users)}@example.com`,
        subject: pick(['Welcome!', 'Your invoice', 'Password reset']),
      }
      return { job: sendEmail, payload }
    }
    if (roll < 0.93) {
      const payload = {
        url: `https://hooks.example.com/${pick(users)}`,
        event: pick(['order.paid', 'user.created']),
      }
      return { job: callWebhook, payload }
    }
    return {
      job: buildReport,
      payload: { reportId: Math.floor(random() * 10_000), pages: 3 + Math.floor(random() * 6) },
    }
  })
}
