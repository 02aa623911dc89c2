/**
 * LISTEN/NOTIFY wake-ups on one dedicated connection (never a pool client, which the pool could hand
 * to someone else). It connects lazily when the first listener subscribes, reconnects with backoff
 * when the connection drops, and after a reconnect wakes every worker once, since notifications
 * sent while it was away are lost.
 */
import pg from 'pg'
import { type Clock, createSystemClock, type TimerHandle } from '../../core/ports/clock.js'
import { type NotifiedKey, parseJobsNotification } from './jobs-notification.js'
import { quoteIdentifier } from './schema-name.js'

/** What the listener needs: how to connect, which channels, and where to report connection trouble. */
export interface NotificationListenerOptions {
  readonly clientConfig: pg.ClientConfig
  /** Channel whose payload is a JSON array of queue names (`[]` = any queue) and their keys (jobs-notification.ts). */
  readonly jobsChannel: string
  /** Channel whose payload is a JSON array of cancelled job ids. */
  readonly cancelChannel: string
  /** Called when the connection fails or drops (the listener keeps retrying). */
  readonly onError?: (error: unknown) => void
  /**
   * Called with the keys a jobs notification carries, before its queues' subscribers are woken
   * (so that the claims they make start from those keys).
   */
  readonly onJobKeys?: (keys: ReadonlyMap<string, NotifiedKey>) => void
  /** Called after a reconnect, before every subscriber is woken: notifications sent meanwhile were lost. */
  readonly onMissedNotifications?: () => void
  /** Schedules the reconnect after a drop (default: the host's timers, which keep no process alive). */
  readonly timers?: Pick<Clock, 'setTimeout'>
}

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 5_000

/** One LISTEN connection fanning notifications out to subscribers. */
export class NotificationListener {
  readonly #options: NotificationListenerOptions
  readonly #timers: Pick<Clock, 'setTimeout'>
  readonly #available = new Set<(queues: readonly string[]) => void>()
  readonly #cancelled = new Set<(ids: readonly string[]) => void>()
  #client: pg.Client | null = null
  #started = false
  #closed = false
  #failures = 0
  #timer: TimerHandle | null = null
  #listening: Promise<void>
  #markListening: () => void = () => {}
  #isListening = false

  /** Creates a listener; nothing connects until the first subscription. */
  constructor(options: NotificationListenerOptions) {
    this.#options = options
    this.#timers = options.timers ?? createSystemClock()
    this.#listening = this.#newListeningPromise()
  }

  /** Subscribes to queue wake-ups; returns an unsubscribe function. */
  onJobsAvailable(listener: (queues: readonly string[]) => void): () => void {
    this.#available.add(listener)
    this.#start()
    return () => this.#available.delete(listener)
  }

  /** Subscribes to cancelled job ids; returns an unsubscribe function. */
  onJobsCancelled(listener: (ids: readonly string[]) => void): () => void {
    this.#cancelled.add(listener)
    this.#start()
    return () => this.#cancelled.delete(listener)
  }

  /** Resolves once the connection listens (after the first subscription); useful before measuring latency. */
  whenListening(): Promise<void> {
    return this.#listening
  }

  /** Stops listening and closes the connection; safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true
    this.#timer?.cancel()
    this.#timer = null
    const client = this.#client
    this.#client = null
    if (client) await client.end().catch(() => {})
  }

  #start(): void {
    if (this.#started || this.#closed) return
    this.#started = true
    void this.#connect()
  }

  async #connect(): Promise<void> {
    if (this.#closed) return
    const client = new pg.Client(this.#options.clientConfig)
    this.#client = client
    let dropped = false
    const drop = (error?: unknown) => {
      if (dropped) return
      dropped = true
      if (error !== undefined) this.#options.onError?.(error)
      if (this.#client === client) this.#client = null
      client.end().catch(() => {})
      this.#scheduleReconnect()
    }
    client.on('error', (error) => drop(error))
    client.on('end', () => drop())
    client.on('notification', (message) => this.#dispatch(message.channel, message.payload))
    try {
      await client.connect()
      await client.query(
        `LISTEN ${quoteIdentifier(this.#options.jobsChannel)}; LISTEN ${quoteIdentifier(this.#options.cancelChannel)}`,
      )
    } catch (error) {
      drop(error)
      return
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    const reconnected = this.#failures > 0
    this.#failures = 0
    this.#isListening = true
    this.#markListening()
    // Notifications sent while disconnected are lost: wake every worker once.
    if (reconnected) {
      this.#call(() => this.#options.onMissedNotifications?.())
      this.#emit(this.#available, [])
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer) return
    if (this.#isListening) {
      this.#isListening = false
      this.#listening = this.#newListeningPromise()
    }
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.#failures)
    this.#failures++
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null
      void this.#connect()
    }, delay)
  }

  #dispatch(channel: string, payload: string | undefined): void {
    if (channel === this.#options.jobsChannel) {
      const { queues, keys } = parseJobsNotification(payload)
      if (keys.size > 0) this.#call(() => this.#options.onJobKeys?.(keys))
      this.#emit(this.#available, queues)
    } else if (channel === this.#options.cancelChannel) {
      const ids = parseStringArray(payload)
      if (ids.length > 0) this.#emit(this.#cancelled, ids)
    }
  }

  #emit(listeners: ReadonlySet<(values: readonly string[]) => void>, values: readonly string[]): void {
    for (const listener of listeners) this.#call(() => listener(values))
  }

  /** Runs a callback, reporting what it throws instead of letting it end the dispatch. */
  #call(callback: () => void): void {
    try {
      callback()
    } catch (error) {
      this.#options.onError?.(error)
    }
  }

  #newListeningPromise(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#markListening = resolve
    })
  }
}

/** Parses a notification payload: a JSON array of strings, else `[]` (which means "any"). */
function parseStringArray(payload: string | undefined): string[] {
  if (!payload) return []
  try {
    const value: unknown = JSON.parse(payload)
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
  } catch {
    return []
  }
}
