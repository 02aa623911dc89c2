/**
 * End to end in headless Chromium: the overview, filtering the job list, a failed job's detail, a
 * retry that then succeeds, confirmation dialogs, live refresh and its pause, and no CSP violation.
 * Also writes the README's screenshots (docs/admin-overview.png, docs/admin-job.png).
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { CoreQueue } from '../../src/core/create-queue.js'
import type { ManualClock } from '../../src/core/ports/clock.js'
import { browserSkip, launchChromium, listenLocally } from './browser.js'
import { type Demo, jobs, seedDemo } from './demo-data.js'
import { adapters, adminApp } from './helpers.js'

const docs = fileURLToPath(new URL('../../docs/', import.meta.url))

describe.skipIf(browserSkip !== null)('admin page in Chromium', () => {
  let browser: Browser
  let queue: CoreQueue
  let clock: ManualClock
  let close: () => Promise<void>
  let demo: Demo
  let app: FastifyInstance
  let base: string
  let context: BrowserContext
  let page: Page
  let cspViolations: string[]

  beforeAll(async () => {
    browser = await launchChromium()
    // Demo data on a fixed, plausible date, so the screenshots only change when the pages do.
    const end = Date.UTC(2026, 10, 2, 14, 30)
    const memory = adapters[0]
    if (!memory) throw new Error('no memory adapter')
    ;({ queue, clock, close } = await memory.create(end - 3 * 3600_000, {
      random: () => 0.5,
      processId: 'worker-7f3a',
    }))
    demo = await seedDemo(queue, clock, end)
    app = await adminApp(queue, {
      prefix: '/admin',
      title: 'Conveyor · acme-prod',
      refreshIntervalMs: 60_000,
    })
    base = `${await listenLocally(app)}/admin`
  })

  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await close?.()
  })

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 })
    page = await context.newPage()
    cspViolations = []
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
    })
  })

  afterEach(async () => {
    expect(cspViolations).toEqual([])
    await context.close()
  })

  it('shows the queues overview and takes its screenshot', async () => {
    await page.goto(`${base}/`)
    const emails = page.locator('tbody tr', { hasText: 'emails' })
    await emails.waitFor()
    expect(await page.locator('tbody tr', { hasText: 'media' }).locator('.badge.paused').count()).toBe(1)
    expect(await emails.locator('td').nth(10).textContent()).toMatch(/\d+m/) // lag of the waiting backlog
    expect(Number(await emails.locator('td').nth(9).textContent())).toBeGreaterThan(0) // jobs per minute
    mkdirSync(docs, { recursive: true })
    await page.setViewportSize({ width: 1360, height: 540 })
    await page.screenshot({ path: `${docs}admin-overview.png`, fullPage: true })
  })

  it('filters the job list, opens a failed job, retries it and sees it succeed', async () => {
    await page.goto(`${base}/jobs`)
    await page.selectOption('select[name="queue"]', 'billing')
    await page.selectOption('select[name="state"]', 'failed')
    await page.click('button:has-text("Filter")')
    await page.waitForURL(/state=failed/)
    expect(new URL(page.url()).searchParams.get('queue')).toBe('billing')
    const states = await page.locator('#live-jobs tbody .badge').allTextContents()
    expect(states.length).toBeGreaterThan(0)
    expect(new Set(states)).toEqual(new Set(['failed']))
    // Every failed job started: each row shows its lag (due time to its last attempt's start).
    const lags = await page.locator('#live-jobs tbody tr td:nth-child(8)').allTextContents()
    expect(lags).toHaveLength(states.length)
    for (const lag of lags) expect(lag).toMatch(/^\d+(\.\d+)?( ms|s|m|h|d)/)

    await page.click(`a[href$="/jobs/${demo.featuredId}"]`)
    await page.waitForURL(new RegExp(`/jobs/${demo.featuredId}$`))
    await page.locator('h1 .badge.s-failed').waitFor()
    const text = await page.locator('main').textContent()
    expect(text).toContain('TemplateError')
    expect(text).toMatch(/Lag\d+( ms|s|m)/)
    expect(text).toContain('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(text).toContain('"invoice": "INV-2030-0042"')
    await page.locator('details summary').first().click()
    await page.screenshot({ path: `${docs}admin-job.png`, fullPage: true })

    await page.click('button:has-text("Retry")')
    await page.locator('.flash.ok').waitFor()
    expect(await page.locator('.flash.ok').textContent()).toBe(`Retried: job ${demo.featuredId}.`)
    await page.locator('#live-job .badge.s-available').waitFor()

    demo.invoicesFail = false
    const result = await queue.drain({ queues: ['billing'] })
    expect(result.succeeded).toBe(1)
    await page.reload()
    await page.locator('#live-job .badge.s-succeeded').waitFor()
    expect(await page.locator('.flash').count()).toBe(0) // shown once only
  })

  it('asks before cancelling, and does nothing when the dialog is dismissed', async () => {
    const { id } = await queue.enqueue(
      jobs.webhook,
      { url: 'https://api.example/hooks', event: 'order.shipped' },
      { delayMs: 3_600_000 },
    )
    await page.goto(`${base}/jobs/${id}`)
    const answers = ['dismiss', 'accept']
    const asked: string[] = []
    page.on('dialog', (dialog) => {
      asked.push(dialog.message())
      void (answers.shift() === 'accept' ? dialog.accept() : dialog.dismiss())
    })
    await page.click('button:has-text("Cancel")')
    expect(asked).toEqual([`Cancel job ${id}?`])
    expect((await queue.getJob(id))?.state).toBe('scheduled')
    await page.click('button:has-text("Cancel")')
    await page.locator('.flash.ok').waitFor()
    expect(await page.locator('.flash.ok').textContent()).toBe(`Cancelled: job ${id}.`)
    expect((await queue.getJob(id))?.state).toBe('cancelled')
  })

  it('refreshes live and stops while paused', async () => {
    const liveApp = await adminApp(queue, { prefix: '/live', refreshIntervalMs: 2000 })
    const liveBase = `${await listenLocally(liveApp)}/live`
    try {
      await page.clock.install()
      const liveRequests: string[] = []
      page.on('request', (r) => {
        if (r.headers()['x-conveyor-live']) liveRequests.push(r.url())
      })
      await page.goto(`${liveBase}/`)
      await page.locator('#live-toggle:has-text("Live refresh: on")').waitFor()

      await queue.enqueue(
        jobs.email,
        { to: 'new@example.com', template: 'welcome' },
        { queue: 'fresh-queue' },
      )
      await page.clock.runFor(2100)
      await page.locator('tbody tr', { hasText: 'fresh-queue' }).waitFor()
      expect(liveRequests.length).toBe(1)

      await page.click('#live-toggle')
      await page.locator('#live-toggle[aria-pressed="false"]').waitFor()
      await queue.enqueue(
        jobs.email,
        { to: 'later@example.com', template: 'welcome' },
        { queue: 'later-queue' },
      )
      await page.clock.runFor(10_000)
      // A marker request: any refresh started before it would have been seen first.
      await page.evaluate('fetch(location.href).then((r) => r.status)')
      expect(liveRequests.length).toBe(1)
      expect(await page.locator('tbody tr', { hasText: 'later-queue' }).count()).toBe(0)

      // The choice is remembered across page loads, and resuming refreshes again.
      await page.reload()
      await page.locator('#live-toggle:has-text("Live refresh: paused")').waitFor()
      await page.click('#live-toggle')
      await page.clock.runFor(2100)
      await page.locator('tbody tr', { hasText: 'later-queue' }).waitFor()
    } finally {
      await liveApp.close()
    }
  })
})
