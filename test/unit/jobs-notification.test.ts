/**
 * The jobs channel's payload (jobs-notification.ts): queue names, then their keys. The SQL that
 * writes it is exercised by test/postgres/notifications.test.ts and claim-cursor-notify.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { parseJobsNotification } from '../../src/adapters/postgres/jobs-notification.js'

/** How versions before the keys read a payload: its strings are the queues (`[]`: every queue). */
function parseAsBefore(payload: string): string[] {
  const value: unknown = JSON.parse(payload)
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

describe('jobs notification payload', () => {
  it('reads the queues and their keys (null: from the front)', () => {
    const n = parseJobsNotification('["a", "b", [[1, 1893456000000], null]]')
    expect(n.queues).toEqual(['a', 'b'])
    expect([...n.keys]).toEqual([
      ['a', { priority: 1, runAt: 1893456000000 }],
      ['b', null],
    ])
  })

  it('reads payloads of earlier versions: queues without keys', () => {
    for (const payload of ['["a", "b"]', '[]', '["a"]']) {
      const n = parseJobsNotification(payload)
      expect(n.queues).toEqual(parseAsBefore(payload))
      expect(n.keys.size).toBe(0)
    }
  })

  it('earlier versions read the queues of the new payloads', () => {
    expect(parseAsBefore('["a", "b", [[1, 1893456000000], null]]')).toEqual(['a', 'b'])
    expect(parseAsBefore('["q", [null]]')).toEqual(['q'])
  })

  it('drops malformed keys and wakes every queue on a malformed payload', () => {
    expect(parseJobsNotification(undefined)).toEqual({ queues: [], keys: new Map() })
    expect(parseJobsNotification('not json').queues).toEqual([])
    expect(parseJobsNotification('{"a": 1}').queues).toEqual([])
    // Keys that do not match the names one to one are ignored altogether.
    expect(parseJobsNotification('["a", "b", [[1, 2]]]').keys.size).toBe(0)
    const n = parseJobsNotification('["a", "b", "c", [[1.5, 2], [1, "x"], [3, 4]]]')
    expect(n.queues).toEqual(['a', 'b', 'c'])
    expect([...n.keys]).toEqual([['c', { priority: 3, runAt: 4 }]])
    // A key is a pair: longer or shorter arrays and values that are not arrays are dropped.
    const pairs = parseJobsNotification('["a", "b", "c", "d", "e", [[1, 2, 3], [1], 5, "12", [5, 6]]]')
    expect([...pairs.keys]).toEqual([['e', { priority: 5, runAt: 6 }]])
  })
})
