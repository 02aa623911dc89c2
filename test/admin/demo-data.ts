/**
 * Realistic demo data for the admin tests and screenshots: five queues with jobs in every state,
 * failures with stacks, schedules in several time zones, a paused queue, and one featured invoice
 * job (metadata, tags, workflow state, trace context) that fails until told otherwise.
 */

import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { JsonValue } from '../../src/core/domain/json.js'
import type { ManualClock } from '../../src/core/ports/clock.js'

/** The demo's job kinds. */
export const jobs = {
  email: defineJob<{ to: string; template: string }>({ kind: 'email.send', queue: 'emails', maxAttempts: 1 }),
  image: defineJob<{ asset: string; width: number }>({
    kind: 'image.resize',
    queue: 'media',
    maxAttempts: 2,
  }),
  invoice: defineJob<{ invoice: string; customer: string; amount: number }>({
    kind: 'invoice.render',
    queue: 'billing',
    maxAttempts: 3,
  }),
  webhook: defineJob<{ url: string; event: string }>({
    kind: 'webhook.deliver',
    queue: 'webhooks',
    maxAttempts: 8,
  }),
  report: defineJob<{ report: string }>({ kind: 'report.nightly', queue: 'reports' }),
  cleanup: defineJob<{ olderThanDays: number }>({ kind: 'storage.cleanup', queue: 'reports' }),
}

/** What the tests steer in the demo. */
export interface Demo {
  /** The featured failed invoice job. */
  featuredId: string
  /** Whether invoice rendering fails (true until a test fixes it). */
  invoicesFail: boolean
}

/** An error with a stack that reads like an application's rather than the test runner's. */
function appError(name: string, message: string, frames: readonly string[]): Error {
  const error = new Error(message)
  error.name = name
  error.stack = [`${name}: ${message}`, ...frames.map((f) => `    at ${f}`)].join('\n')
  return error
}

const MINUTE = 60_000

/** Registers handlers and schedules and fills the queue, moving `clock` forward to `end` as it goes. */
export async function seedDemo(queue: CoreQueue, clock: ManualClock, end: number): Promise<Demo> {
  const demo: Demo = { featuredId: '', invoicesFail: true }
  queue.register(jobs.email, (p) => {
    if (p.to.endsWith('@bounce.example')) {
      throw appError('SmtpError', `550 5.1.1 <${p.to}>: mailbox unavailable`, [
        'SmtpClient.send (/app/src/mail/smtp.ts:141:15)',
        'async sendEmail (/app/src/jobs/email.ts:22:5)',
      ])
    }
  })
  queue.register(jobs.image, (p) => {
    if (p.width > 4096) {
      throw appError('RangeError', `Requested width ${p.width}px exceeds the 4096px limit`, [
        'resize (/app/src/media/resize.ts:57:11)',
        'async resizeImage (/app/src/jobs/image.ts:14:3)',
      ])
    }
  })
  queue.register(jobs.invoice, (_p, ctx) => {
    ctx.setState({ step: 'render', template: 'invoice-v2', pages: 3 })
    if (demo.invoicesFail && ctx.job.id === demo.featuredId) {
      throw appError('TemplateError', 'Template "invoice-v2" is missing field customer.vatNumber', [
        'Renderer.field (/app/src/billing/render.ts:88:11)',
        'Renderer.section (/app/src/billing/render.ts:61:20)',
        'async renderInvoice (/app/src/jobs/invoice.ts:31:18)',
      ])
    }
  })
  queue.register(jobs.webhook, (p) => {
    if (p.url.includes('partner')) {
      throw appError('FetchError', `connect ECONNREFUSED 10.0.3.7:443 (${p.url})`, [
        'ClientRequest.<anonymous> (/app/node_modules/undici/lib/core/connect.js:187:20)',
        'async deliverWebhook (/app/src/jobs/webhook.ts:40:22)',
      ])
    }
  })
  queue.register(jobs.report, () => {})
  queue.register(jobs.cleanup, () => {})

  await queue.schedule(
    '0 2 * * *',
    jobs.report,
    { report: 'daily-revenue' },
    {
      name: 'nightly-revenue',
      timezone: 'Europe/Paris',
    },
  )
  await queue.schedule(
    '0 8 * * 1',
    jobs.report,
    { report: 'weekly-digest' },
    {
      name: 'weekly-digest',
      timezone: 'America/New_York',
    },
  )
  await queue.schedule('@every 15m', jobs.cleanup, { olderThanDays: 30 }, { name: 'tmp-cleanup' })

  const users = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'edsger', 'frances']
  const start = clock.now()
  const steps = 10
  const stepMs = Math.max(MINUTE, Math.floor((end - start - 20 * MINUTE) / steps))
  for (let i = 0; i < steps; i++) {
    for (let j = 0; j < 4; j++) {
      const user = users[(i * 4 + j) % users.length] ?? 'ada'
      const to = i % 4 === 1 && j === 0 ? `${user}@bounce.example` : `${user}@example.com`
      await queue.enqueue(jobs.email, { to, template: j % 2 ? 'welcome' : 'receipt' })
    }
    await queue.enqueue(jobs.image, {
      asset: `uploads/photo-${1000 + i}.jpg`,
      width: i % 3 === 2 ? 8000 : 1600,
    })
    await queue.enqueue(jobs.webhook, {
      url: i % 3 === 0 ? 'https://partner.example/hooks' : 'https://api.example/hooks',
      event: 'order.paid',
    })
    if (i % 2 === 0) {
      await queue.enqueue(jobs.invoice, {
        invoice: `INV-2030-${100 + i}`,
        customer: 'Globex',
        amount: 1200 + i,
      })
    }
    await queue.drain()
    clock.advance(stepMs)
  }

  // The featured job carries everything the detail page shows; trace context comes from instrumentation.
  const [outcome] = await queue.store.insertJobs({
    now: clock.now(),
    jobs: [
      {
        kind: jobs.invoice.kind,
        queue: 'billing',
        payload: {
          invoice: 'INV-2030-0042',
          customer: 'Acme Corp',
          amount: 4299.5,
          lines: [{ sku: 'PRO-PLAN', qty: 1 }],
        },
        priority: 0,
        runAt: clock.now(),
        maxAttempts: 3,
        timeoutMs: 30_000,
        weight: 1,
        uniqueKey: 'invoice:INV-2030-0042',
        groupKey: 'customer:acme',
        dependsOn: [],
        metadata: { tenant: 'acme', requestedBy: 'billing-api' } as Record<string, JsonValue>,
        tags: ['billing', 'pdf'],
        workflowState: null,
        backoff: { baseMs: 30_000, factor: 2, maxMs: 600_000, jitter: 0.1 },
        scheduleName: null,
        scheduleTick: null,
        traceContext: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      },
    ],
  })
  demo.featuredId = outcome?.job.id ?? ''
  for (let attempt = 0; attempt < 3; attempt++) {
    await queue.drain({ queues: ['billing'] })
    clock.advance(3 * MINUTE) // past the backoff, so each attempt runs at its own time
  }

  const cancelled = await queue.enqueue(jobs.webhook, {
    url: 'https://api.example/hooks',
    event: 'order.refunded',
  })
  await queue.cancelJobs({ ids: [cancelled.id] })
  await queue.enqueue(jobs.image, { asset: 'uploads/banner.png', width: 2400 }, { delayMs: 45 * MINUTE })
  await queue.pauseQueue('media')

  // A backlog: enqueued minutes ago, two thirds done in the last minute, the rest waiting.
  clock.set(end - 5 * MINUTE)
  for (let i = 0; i < 30; i++) {
    await queue.enqueue(jobs.email, { to: `${users[i % users.length]}@example.com`, template: 'digest' })
  }
  clock.set(end - 30_000)
  await queue.drain({ queues: ['emails'], limit: 20 })
  clock.set(end)
  return demo
}
