/**
 * The LISTEN connection's life cycle on a real server: connections refused, a LISTEN that fails,
 * the connection killed (`pg_terminate_backend`), `close()` while connecting, and the reconnect
 * backoff, read from a timer port the test fires by hand (no sleeps).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { NotificationListener } from '../../src/adapters/postgres/notification-listener.js'
import type { Clock, TimerHandle } from '../../src/core/ports/clock.js'
import { nextTurn, waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres } from './fixture.js'

/** A timer port that records each delay asked for and fires only when the test says so. */
class HandTimers implements Pick<Clock, 'setTimeout'> {
  readonly delays: number[] = []
  #pending: { callback: () => void; cancelled: boolean }[] = []

  setTimeout(callback: () => void, ms: number): TimerHandle {
    this.delays.push(ms)
    const timer = { callback, cancelled: false }
    this.#pending.push(timer)
    return {
      cancel: () => {
        timer.cancelled = true
      },
    }
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#pending.filter((t) => !t.cancelled).length
  }

  /** Fires every pending timer. */
  fire(): void {
    const due = this.#pending.filter((t) => !t.cancelled)
    this.#pending = []
    for (const t of due) t.callback()
  }
}

/** Whether a promise has settled, read without waiting for it. */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false
  void promise.then(() => {
    done = true
  })
  return () => done
}

describePostgres('the notification listener connection', () => {
  let admin: pg.Pool
  let listener: NotificationListener | undefined
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: databaseUrl(), max: 2 })
  })
  afterEach(async () => {
    await listener?.close()
    listener = undefined
  })
  afterAll(async () => {
    await admin.end()
  })

  /** A listener on fresh channels, with every callback recorded; `config` and `options` stay mutable. */
  const setUp = () => {
    const url = new URL(databaseUrl())
    const tag = `lt_${randomBytes(5).toString('hex')}`
    const database = decodeURIComponent(url.pathname.slice(1)) || 'postgres'
    const config: pg.ClientConfig = {
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username) || undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database,
      application_name: tag,
    }
    const timers = new HandTimers()
    const errors: unknown[] = []
    const woken: (readonly string[])[] = []
    let missed = 0
    const options = {
      clientConfig: config,
      jobsChannel: `${tag}_jobs`,
      cancelChannel: `${tag}_cancel`,
      onError: (error: unknown) => void errors.push(error),
      onMissedNotifications: () => void missed++,
      timers,
    }
    listener = new NotificationListener(options)
    const backends = async () =>
      (
        await admin.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [tag],
        )
      ).rows[0]?.n
    return {
      listener,
      config,
      options,
      timers,
      errors,
      woken,
      missed: () => missed,
      database,
      backends,
      notify: (queues: string[]) =>
        admin.query('SELECT pg_notify($1, $2)', [options.jobsChannel, JSON.stringify(queues)]),
      kill: () =>
        admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          tag,
        ]),
    }
  }
  const codeOf = (error: unknown) => (error as { code?: string }).code

  it('connects once, on the first subscription, and wakes nobody for it', async () => {
    const t = setUp()
    expect(await t.backends()).toBe(0)
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    await t.listener.whenListening()
    await t.notify(['a'])
    await waitFor(() => t.woken.length > 0)
    expect(t.woken).toEqual([['a']])
    expect(t.missed()).toBe(0)
    expect(t.timers.delays).toEqual([])
    // A later subscription shares the connection: close() then leaves none open.
    t.listener.onJobsCancelled(() => {})
    await t.listener.close()
    await waitFor(async () => (await t.backends()) === 0, { message: 'close() to end the connection' })
  })

  it('retries a refused connection with a doubling backoff up to 5 s, then wakes every subscriber once', async () => {
    const t = setUp()
    t.config.database = `${t.database}_missing_${randomBytes(3).toString('hex')}`
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    const listening = settled(t.listener.whenListening())
    for (let failures = 1; failures <= 8; failures++) {
      await waitFor(() => t.timers.pending === 1, { message: `reconnect ${failures} to be scheduled` })
      expect(t.errors).toHaveLength(failures)
      expect(codeOf(t.errors[failures - 1])).toBe('3D000')
      await nextTurn()
      expect(listening()).toBe(false)
      if (failures < 8) t.timers.fire()
    }
    expect(t.timers.delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000])
    expect(t.woken).toEqual([])

    t.config.database = t.database
    t.timers.fire()
    await waitFor(listening, { message: 'the whenListening() asked for before the first attempt to resolve' })
    expect(t.missed()).toBe(1)
    expect(t.woken).toEqual([[]])
    expect(t.timers.pending).toBe(0)
    expect(await t.backends()).toBe(1)
  })

  it('after a drop, reports it, reconnects from the shortest delay and resolves a new whenListening()', async () => {
    const t = setUp()
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    const first = t.listener.whenListening()
    await first
    expect((await t.kill()).rowCount).toBe(1)
    await waitFor(() => t.timers.pending === 1, { message: 'the reconnect to be scheduled' })
    // The server's admin_shutdown, reported once (the 'end' that follows it is the same drop).
    expect(t.errors.map(codeOf)).toEqual(['57P01'])
    expect(t.timers.delays).toEqual([100])
    const again = settled(t.listener.whenListening())
    await nextTurn()
    expect(again()).toBe(false)

    // The reconnect fails once while the server refuses; the whenListening() of the drop still resolves.
    t.config.database = `${t.database}_missing_${randomBytes(3).toString('hex')}`
    t.timers.fire()
    await waitFor(() => t.timers.pending === 1, { message: 'the second reconnect to be scheduled' })
    expect(t.timers.delays).toEqual([100, 200])
    expect(t.errors.map(codeOf)).toEqual(['57P01', '3D000'])
    expect(again()).toBe(false)
    t.config.database = t.database
    t.timers.fire()
    await waitFor(again, { message: 'whenListening() to resolve after the reconnect' })
    expect(t.missed()).toBe(1)
    expect(t.woken).toEqual([[]])
    await waitFor(async () => (await t.backends()) === 1)

    // Listening again: notifications arrive, and the next drop starts at the shortest delay again.
    t.woken.length = 0
    await t.notify(['b'])
    await waitFor(() => t.woken.length > 0)
    expect(t.woken).toEqual([['b']])
    expect((await t.kill()).rowCount).toBe(1)
    await waitFor(() => t.timers.pending === 1, { message: 'the reconnect after the second drop' })
    expect(t.timers.delays).toEqual([100, 200, 100])
    await t.listener.close()
    expect(t.timers.pending).toBe(0)
  })

  it('a LISTEN that fails ends its connection and is retried', async () => {
    const t = setUp()
    // A zero-length quoted identifier: the connection succeeds and the LISTEN is a syntax error.
    t.options.jobsChannel = ''
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    const listening = settled(t.listener.whenListening())
    await waitFor(() => t.timers.pending === 1, { message: 'the reconnect to be scheduled' })
    expect(t.errors.map(codeOf)).toEqual(['42601'])
    expect(t.timers.delays).toEqual([100])
    await waitFor(async () => (await t.backends()) === 0, { message: 'the failed connection to be ended' })
    expect(listening()).toBe(false)

    t.options.jobsChannel = `${t.config.application_name}_jobs`
    t.timers.fire()
    await waitFor(listening)
    expect(t.missed()).toBe(1)
    expect(t.woken).toEqual([[]])
  })

  it('close() while connecting leaves no connection, no reconnect and nothing listening', async () => {
    const t = setUp()
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    const listening = settled(t.listener.whenListening())
    await t.listener.close()
    await nextTurn()
    await nextTurn()
    expect(t.timers.pending).toBe(0)
    expect(listening()).toBe(false)
    await waitFor(async () => (await t.backends()) === 0, { message: 'the connection to be ended' })
    // A subscription after close() does not connect again.
    t.listener.onJobsCancelled(() => {})
    await nextTurn()
    expect(t.timers.pending).toBe(0)
    expect(await t.backends()).toBe(0)
  })

  it('close() while a reconnect is pending cancels it', async () => {
    const t = setUp()
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    await t.listener.whenListening()
    await t.kill()
    await waitFor(() => t.timers.pending === 1)
    await t.listener.close()
    expect(t.timers.pending).toBe(0)
    // The killed backend leaves pg_stat_activity when it has exited (not at once under load); a
    // reconnect would leave a new one there for good.
    await waitFor(async () => (await t.backends()) === 0, { message: 'the killed connection to be gone' })
  })

  it('reports a subscriber that throws to onError and still wakes the others', async () => {
    const t = setUp()
    const thrown = new Error('subscriber failed')
    t.listener.onJobsAvailable(() => {
      throw thrown
    })
    t.listener.onJobsAvailable((queues) => t.woken.push(queues))
    await t.listener.whenListening()
    await t.notify(['c'])
    await waitFor(() => t.woken.length > 0)
    expect(t.woken).toEqual([['c']])
    expect(t.errors).toEqual([thrown])
  })
})
