/** The stop policy of long-running commands, on a hand-moved clock: one keypress is one graceful stop. */
import { describe, expect, it } from 'vitest'
import { SAME_KEYPRESS_MS, stopPolicy } from '../../src/cli/stop-signals.js'

describe('stopPolicy', () => {
  it('stops gracefully at the first signal and ignores relays of the same keypress', () => {
    let now = 5000
    const decide = stopPolicy(() => now)
    expect(decide('SIGINT')).toBe('graceful')
    expect(decide('SIGINT')).toBe('ignored') // npm's relay, at the same instant
    now += SAME_KEYPRESS_MS - 1
    expect(decide('SIGTERM')).toBe('ignored')
  })

  it('stops at once on a signal a second or more after the first', () => {
    let now = 0
    const decide = stopPolicy(() => now)
    expect(decide('SIGINT')).toBe('graceful')
    now += SAME_KEYPRESS_MS
    expect(decide('SIGINT')).toBe('immediate')
  })
})
