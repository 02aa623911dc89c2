/**
 * The queue options resolved once (src/core/config): every option reaches its role's slice, each
 * left-out option takes its default, and bad options are refused with `InvalidArgumentError`
 * naming the field.
 */
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/core/config/resolve-config.js'
import { AUTO_PREFETCH, DEFAULTS } from '../../src/core/defaults.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { silentLogger } from '../../src/core/ports/logger.js'

const refuses = (options: unknown, message: string, extraKeys?: readonly string[]) => {
  const resolve = () => resolveConfig(options, { extraKeys })
  expect(resolve).toThrow(InvalidArgumentError)
  expect(resolve).toThrow(message)
}

/** A worker id of a run of process `p1`: the option, the run's suffix, the worker's name. */
const run = (worker: string) =>
  expect.stringMatching(new RegExp(`^p1-[0-9a-f]{6}:${worker.replace('+', '\\+')}$`))

describe('resolveConfig: values reach their roles', () => {
  it('fills every slice with the defaults', () => {
    const config = resolveConfig({ processId: 'p1' })
    // Each run gets its own id: the option, then a suffix (crash rescue goes by the id).
    expect(config.processId).toMatch(/^p1-[0-9a-f]{6}$/)
    expect(resolveConfig({ processId: 'p1' }).processId).not.toBe(config.processId)
    expect(config.middleware).toEqual([])
    expect(config.shutdownGraceMs).toBe(DEFAULTS.shutdownGraceMs)
    expect(config.scheduler).toEqual(DEFAULTS.scheduler)
    const dm = DEFAULTS.maintenance
    expect(config.maintenance).toEqual({
      processId: config.processId,
      heartbeatIntervalMs: dm.heartbeatIntervalMs,
      rescueAfterMs: dm.rescueAfterMs,
      rescueIntervalMs: dm.rescueIntervalMs,
      timeoutRescueMarginMs: dm.timeoutRescueMarginMs,
      retentionMs: dm.retentionMs,
      pruneIntervalMs: dm.pruneIntervalMs,
      batchSize: dm.batchSize,
      orphans: DEFAULTS.orphans,
    })
    expect(config.storageHealth).toEqual(DEFAULTS.storageHealth)
    expect(config.workers(['a', 'b'])).toEqual([
      {
        settings: {
          id: `${config.processId}:default`,
          queues: ['a', 'b'],
          capacity: DEFAULTS.worker.concurrency,
          oversized: 'alone',
          strategy: DEFAULTS.worker.strategy,
          pollIntervalMs: DEFAULTS.worker.pollIntervalMs,
          prefetch: 0,
          prefetchMax: 0,
          maxBufferWaitMs: DEFAULTS.worker.maxBufferWaitMs,
        },
        transactional: false,
        isolation: null,
      },
    ])
  })

  it('takes every option given', () => {
    const middleware = [{ name: 'm' }]
    const config = resolveConfig({
      processId: 'p1',
      middleware,
      shutdownGraceMs: 5,
      pollIntervalMs: 7,
      maxBufferWaitMs: 9,
      prefetch: 3,
      scheduler: { intervalMs: 11, missedToleranceMs: 13 },
      maintenance: {
        heartbeatIntervalMs: 15,
        rescueAfterMs: 17,
        rescueIntervalMs: 19,
        timeoutRescueMarginMs: 21,
        retentionMs: 23,
        pruneIntervalMs: 25,
      },
      orphans: { intervalMs: 27, failAfterMs: 29 },
      storageHealth: { horizonWarnAfterMs: 31, deadTuplesWarnAt: 33, cacheMs: 35 },
    })
    expect(config.middleware).toBe(middleware)
    expect(config.shutdownGraceMs).toBe(5)
    expect(config.scheduler).toEqual({ intervalMs: 11, missedToleranceMs: 13 })
    expect(config.maintenance).toMatchObject({
      heartbeatIntervalMs: 15,
      rescueAfterMs: 17,
      rescueIntervalMs: 19,
      timeoutRescueMarginMs: 21,
      retentionMs: 23,
      pruneIntervalMs: 25,
      orphans: { intervalMs: 27, failAfterMs: 29 },
    })
    expect(config.drain).toEqual({
      strategy: DEFAULTS.worker.strategy,
      workerId: `${config.processId}:drain`,
      missedToleranceMs: 13,
      heartbeatIntervalMs: 15,
      rescueAfterMs: 17,
    })
    expect(config.storageHealth).toEqual({ horizonWarnAfterMs: 31, deadTuplesWarnAt: 33, cacheMs: 35 })
    expect(config.workers(['a'])[0]?.settings).toMatchObject({
      pollIntervalMs: 7,
      maxBufferWaitMs: 9,
      prefetch: 3,
    })
  })

  it('keeps null for no retention and no timeout rescue', () => {
    const config = resolveConfig({ maintenance: { retentionMs: null, timeoutRescueMarginMs: null } })
    expect(config.maintenance).toMatchObject({ retentionMs: null, timeoutRescueMarginMs: null })
  })

  it('turns the scheduler and maintenance off only when enabled is false', () => {
    expect(resolveConfig({ scheduler: { enabled: false }, maintenance: { enabled: false } })).toMatchObject({
      scheduler: null,
      maintenance: null,
    })
    const on = resolveConfig({ scheduler: { enabled: true }, maintenance: { enabled: true } })
    expect(on.scheduler).not.toBeNull()
    expect(on.maintenance).not.toBeNull()
  })

  it('draws the suffix from the random option when one is given, so tests see the same ids on every run', () => {
    expect(resolveConfig({ processId: 'p1', random: () => 0.5 }).processId).toBe('p1-800000')
    expect(resolveConfig({ processId: 'p1', random: () => 0 }).processId).toBe('p1-000000')
    expect(resolveConfig({ processId: 'p1', random: () => 0.999_999_99 }).processId).toBe('p1-ffffff')
    // Without it, and on a manual clock alike, every queue object gets a suffix of its own.
    const clock = new ManualClock(1000)
    expect(resolveConfig({ processId: 'p1', clock }).processId).not.toBe(
      resolveConfig({ processId: 'p1', clock }).processId,
    )
  })

  it('makes an 8-character process id when none is given', () => {
    expect(resolveConfig({}).processId).toMatch(/^[0-9a-f]{8}$/)
  })

  it('takes the clock given, else the adapter clock', () => {
    const clock = new ManualClock(0)
    expect(resolveConfig({ clock }).clock).toBe(clock)
    const adapterClock = new ManualClock(0)
    expect(resolveConfig({}, { clock: () => adapterClock }).clock).toBe(adapterClock)
  })

  it("prefers the queue's prefetch, then the adapter's, then 0; 'auto' gives the auto range", () => {
    expect(resolveConfig({ prefetch: 2 }, { prefetch: 5 }).workers(['a'])[0]?.settings.prefetch).toBe(2)
    expect(resolveConfig({}, { prefetch: 5 }).workers(['a'])[0]?.settings).toMatchObject({
      prefetch: 5,
      prefetchMax: 5,
    })
    expect(resolveConfig({ prefetch: 'auto' }).workers(['a'])[0]?.settings).toMatchObject({
      prefetch: AUTO_PREFETCH.base,
      prefetchMax: AUTO_PREFETCH.max,
    })
  })

  it('gives each worker its own settings, falling back to the queue-wide ones', () => {
    const workers = resolveConfig({
      processId: 'p1',
      pollIntervalMs: 50,
      workers: [
        {
          name: 'w',
          queues: ['a'],
          transactional: true,
          isolation: 'thread',
          pollIntervalMs: 5,
          prefetch: 'auto',
        },
        { queues: ['b', 'c'], transactional: false, concurrency: 3, oversized: 'refuse', strategy: 'time' },
      ],
    }).workers([])
    expect(workers[0]).toMatchObject({
      settings: { id: run('w'), pollIntervalMs: 5, prefetch: AUTO_PREFETCH.base },
      transactional: true,
      isolation: 'thread',
    })
    expect(workers[1]).toMatchObject({
      settings: { id: run('b+c'), capacity: 3, oversized: 'refuse', strategy: 'time', pollIntervalMs: 50 },
      transactional: false,
      isolation: null,
    })
  })

  it('makes one worker per entry of queues', () => {
    const workers = resolveConfig({
      processId: 'p1',
      queues: { mail: { concurrency: 2, strategy: 'time' } },
    }).workers(['ignored'])
    expect(workers.map((w) => w.settings)).toMatchObject([
      { id: run('mail'), queues: ['mail'], capacity: 2, strategy: 'time' },
    ])
  })
})

describe('resolveConfig: bad options', () => {
  it.each([
    ['a clock that is null', { clock: null }, 'clock must be a Clock'],
    ['a clock that is a number', { clock: 5 }, 'clock must be a Clock'],
    ['a clock without setTimeout', { clock: { now: () => 0 } }, 'clock must be a Clock'],
    ['a clock without now', { clock: { setTimeout: () => ({ cancel() {} }) } }, 'clock must be a Clock'],
    ['random that is not a function', { random: 0.5 }, 'random must be a function'],
    ['a logger that is null', { logger: null }, 'logger must have debug, info, warn and error methods'],
    ['a logger that is a string', { logger: 'console' }, 'logger must have debug'],
    ['a logger without error', { logger: { debug() {}, info() {}, warn() {} } }, 'logger must have debug'],
    ['queues that is not an object', { queues: 'a' }, 'queues must be an object'],
    ['a bad queue name', { queues: { 'bad queue': {} } }, 'queues key must be'],
    [
      'a bad queue concurrency',
      { queues: { a: { concurrency: 0 } } },
      'queues.a.concurrency must be an integer',
    ],
    [
      'a bad queue strategy',
      { queues: { a: { strategy: 'fifo' } } },
      "queues.a.strategy must be 'priority' or 'time'",
    ],
    ['a queue entry left undefined', { queues: { a: undefined } }, 'queues.a must be an object'],
    ['workers that is not an array', { workers: {} }, 'workers must be an array'],
    [
      'a worker with a bad name',
      { workers: [{ name: 'bad name', queues: ['a'] }] },
      'workers[0].name must be',
    ],
    [
      'a worker with a bad isolation',
      { workers: [{ queues: ['a'], isolation: 'vm' }] },
      "workers[0].isolation must be 'thread' or 'process'",
    ],
    ['a worker without queues', { workers: [{ queues: [] }] }, 'workers[0].queues must be a non-empty array'],
    [
      'a worker with queues not an array',
      { workers: [{ queues: 'a' }] },
      'workers[0].queues must be a non-empty array',
    ],
    [
      'a worker with a bad strategy',
      { workers: [{ queues: ['a'], strategy: 'x' }] },
      "workers[0].strategy must be 'priority' or 'time'",
    ],
    [
      'a worker with a bad oversized',
      { workers: [{ queues: ['a'], oversized: 'x' }] },
      "workers[0].oversized must be 'alone'",
    ],
    ['a bad strategy', { strategy: 'fifo' }, "strategy must be 'priority' or 'time'"],
    [
      'a retentionMs of 0',
      { maintenance: { retentionMs: 0 } },
      'maintenance.retentionMs must be an integer from 1',
    ],
    [
      'a heartbeat of null',
      { maintenance: { heartbeatIntervalMs: null } },
      'maintenance.heartbeatIntervalMs must be an integer',
    ],
    [
      'a rescueAfterMs of 0',
      { maintenance: { rescueAfterMs: 0 } },
      'maintenance.rescueAfterMs must be an integer from 1',
    ],
    [
      'a negative timeout rescue margin',
      { maintenance: { timeoutRescueMarginMs: -1 } },
      'maintenance.timeoutRescueMarginMs must be an integer from 0',
    ],
    ['a processId of 129 characters', { processId: 'x'.repeat(129) }, 'processId must be 1-128 letters'],
    ['a processId that is a number', { processId: 5 }, 'processId must be 1-128 letters'],
    ['middleware that is not an array', { middleware: {} }, 'middleware must be an array'],
    ['a middleware that is null', { middleware: [null] }, 'middleware[0] must be an object'],
    ['a middleware that is a function', { middleware: [() => {}] }, 'middleware[0] must be an object'],
    [
      'a middleware name that is a number',
      { middleware: [{ name: 5 }] },
      'middleware[0].name must be a string',
    ],
    [
      'an insert hook that is not a function',
      { middleware: [{ insert: 5 }] },
      'middleware[0].insert must be a function ((call, next) => next())',
    ],
    [
      'a run hook that is not a function',
      { middleware: [{ run: 'x' }] },
      'middleware[0].run must be a function ((job, next) => next())',
    ],
  ])('refuses %s', (_name, options, message) => {
    refuses(options, message)
  })

  it.each([
    ['a ManualClock', { clock: new ManualClock(0) }],
    ['console-like logger', { logger: silentLogger }],
    [
      'the smallest timeout rescue margin (the buffer wait)',
      { maxBufferWaitMs: 1, maintenance: { timeoutRescueMarginMs: 1 } },
    ],
    [
      'a worker with each isolation',
      {
        workers: [
          { queues: ['a'], isolation: 'thread' },
          { queues: ['b'], isolation: 'process' },
        ],
      },
    ],
    ['the time strategy', { strategy: 'time', oversized: 'refuse' }],
    ['the priority strategy', { strategy: 'priority', oversized: 'alone' }],
    [
      'middleware with a name and hooks',
      { middleware: [{ name: 'm', insert: async () => [], run: async () => {} }] },
    ],
  ])('accepts %s', (_name, options) => {
    expect(() => resolveConfig(options)).not.toThrow()
  })

  it("accepts an adapter's own options only when the adapter names them", () => {
    refuses({ pool: {} }, 'Queue options: unknown option "pool"')
    expect(() => resolveConfig({ pool: {} }, { extraKeys: ['pool'] })).not.toThrow()
  })
})
