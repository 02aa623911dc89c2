/**
 * A run's logger on its own: what it keeps (bounded by lines and by characters, fields as JSON
 * copies) and what it forwards (every line, with the job's bound fields).
 */
import { describe, expect, it } from 'vitest'
import type { LogFields, Logger, LogLevel } from '../../src/core/ports/logger.js'
import { createRunLogger, MAX_RUN_LOG_CHARS, MAX_RUN_LOG_LINES } from '../../src/core/runtime/run-logger.js'

/** A logger that records every call. */
function recordingLogger() {
  const calls: [LogLevel, string, LogFields | undefined][] = []
  const at = (level: LogLevel) => (message: string, fields?: LogFields) =>
    calls.push([level, message, fields])
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { logger, calls }
}

function runLogger(maxLines?: number) {
  let now = 100
  const forward = recordingLogger()
  const run = createRunLogger(() => now++, forward.logger, { jobId: '7', kind: 'email' }, maxLines)
  return { run, forwarded: forward.calls }
}

describe('kept lines', () => {
  it('keeps each level with the time, message and a copy of the fields', () => {
    const { run } = runLogger()
    const fields = { to: 'a@b', n: 1 }
    run.logger.debug('d')
    run.logger.info('i', fields)
    run.logger.warn('w', {})
    run.logger.error('e', { nested: { x: [1, 2] } })
    fields.n = 2
    expect(run.lines).toEqual([
      { at: 100, level: 'debug', message: 'd' },
      { at: 101, level: 'info', message: 'i', fields: { to: 'a@b', n: 1 } },
      { at: 102, level: 'warn', message: 'w' },
      { at: 103, level: 'error', message: 'e', fields: { nested: { x: [1, 2] } } },
    ])
    expect(run.lines[0]).not.toHaveProperty('fields')
    expect(run.lines[2]).not.toHaveProperty('fields')
    expect(run.dropped()).toBe(0)
  })

  it('errors keep their name, message and stack; bigints become strings', () => {
    const { run } = runLogger()
    const error = new TypeError('bad input')
    run.logger.error('failed', { error, big: 12345678901234567890n })
    expect(run.lines[0]!.fields).toEqual({
      error: { name: 'TypeError', message: 'bad input', stack: error.stack },
      big: '12345678901234567890',
    })
  })

  it('fields that are not a record are kept under value; fields with no JSON form are left out', () => {
    const { run } = runLogger()
    const log = run.logger.info as (message: string, fields?: unknown) => void
    log('number', 5)
    log('array', ['a', 1])
    log('string', 'text')
    log('no JSON', { toJSON: () => undefined })
    expect(run.lines.map((l) => l.fields)).toEqual([
      { value: 5 },
      { value: ['a', 1] },
      { value: 'text' },
      undefined,
    ])
    expect(run.lines[3]).not.toHaveProperty('fields')
  })

  it('fields whose JSON form is not a record (a Date, a toJSON returning null) are kept under value', () => {
    const { run } = runLogger()
    const log = run.logger.info as (message: string, fields?: unknown) => void
    log('date', new Date(0))
    log('null', { toJSON: () => null })
    expect(run.lines.map((l) => l.fields)).toEqual([{ value: '1970-01-01T00:00:00.000Z' }, { value: null }])
  })

  it('fields that cannot be serialized are kept as the error that says why', () => {
    const { run } = runLogger()
    const circular: Record<string, unknown> = {}
    circular.self = circular
    run.logger.warn('loop', circular)
    const fields = run.lines[0]!.fields as { unserializable: string }
    expect(Object.keys(fields)).toEqual(['unserializable'])
    expect(fields.unserializable).toMatch(/^TypeError: .*circular/i)
  })

  it('a message is kept to its first 4000 characters, and a non-string message as its string', () => {
    const { run, forwarded } = runLogger()
    const long = `${'a'.repeat(4000)}b`
    run.logger.info(long)
    ;(run.logger.info as (message: unknown) => void)(42)
    expect(run.lines[0]!.message).toBe('a'.repeat(4000))
    expect(run.lines[1]!.message).toBe('42')
    expect(forwarded[0]![1]).toBe(long)
  })

  it('fields over 4000 characters of JSON are kept as their first 4000 characters, truncated', () => {
    const { run } = runLogger()
    const big = { text: 'x'.repeat(5000) }
    run.logger.info('big', big)
    expect(run.lines[0]!.fields).toEqual({ truncated: JSON.stringify(big).slice(0, 4000) })
    const exact = { text: 'y'.repeat(4000 - '{"text":""}'.length) }
    run.logger.info('exact', exact)
    expect(run.lines[1]!.fields).toEqual(exact)
  })
})

describe('limits', () => {
  it(`keeps ${MAX_RUN_LOG_LINES} lines by default and counts the rest as dropped`, () => {
    const { run, forwarded } = runLogger()
    for (let i = 0; i < MAX_RUN_LOG_LINES + 2; i++) run.logger.info(`line ${i}`)
    expect(run.lines).toHaveLength(MAX_RUN_LOG_LINES)
    expect(run.lines.at(-1)!.message).toBe(`line ${MAX_RUN_LOG_LINES - 1}`)
    expect(run.dropped()).toBe(2)
    expect(forwarded).toHaveLength(MAX_RUN_LOG_LINES + 2)
  })

  it('keeps maxLines lines when given', () => {
    const { run } = runLogger(2)
    for (const m of ['a', 'b', 'c']) run.logger.info(m)
    expect(run.lines.map((l) => l.message)).toEqual(['a', 'b'])
    expect(run.dropped()).toBe(1)
  })

  it(`keeps lines while fewer than ${MAX_RUN_LOG_CHARS} characters of messages and fields are kept`, () => {
    const { run } = runLogger()
    const fields = { f: 'z'.repeat(1000 - '{"f":""}'.length) } // 1000 characters of JSON
    // 15 lines of 4000 characters and one of 2999 + 1000: one character of budget left.
    for (let i = 0; i < 15; i++) run.logger.info('m'.repeat(4000))
    run.logger.info('m'.repeat(2999), fields)
    expect(run.dropped()).toBe(0)
    // The line that takes the last character is kept whole (the budget may go below zero once).
    run.logger.info('last kept')
    expect(run.lines).toHaveLength(17)
    expect(run.lines.at(-1)!.message).toBe('last kept')
    run.logger.info('dropped')
    expect(run.lines).toHaveLength(17)
    expect(run.dropped()).toBe(1)
  })

  it('a budget spent exactly to zero keeps no further line', () => {
    const { run } = runLogger()
    for (let i = 0; i < MAX_RUN_LOG_CHARS / 4000; i++) run.logger.info('m'.repeat(4000))
    run.logger.info('over')
    expect(run.lines).toHaveLength(MAX_RUN_LOG_CHARS / 4000)
    expect(run.dropped()).toBe(1)
  })
})

describe('forwarding', () => {
  it('forwards every line at its level with the bound fields, its own fields winning', () => {
    const { run, forwarded } = runLogger(1)
    run.logger.debug('d')
    run.logger.info('i', { kind: 'override', extra: 1 })
    run.logger.warn('w')
    run.logger.error('e', { x: 1n })
    expect(forwarded).toEqual([
      ['debug', 'd', { jobId: '7', kind: 'email' }],
      ['info', 'i', { jobId: '7', kind: 'override', extra: 1 }],
      ['warn', 'w', { jobId: '7', kind: 'email' }],
      ['error', 'e', { jobId: '7', kind: 'email', x: 1n }],
    ])
  })
})
