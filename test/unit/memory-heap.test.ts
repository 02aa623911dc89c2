import { describe, expect, it } from 'vitest'
import { BinaryHeap } from '../../src/adapters/memory/heap.js'

describe('BinaryHeap', () => {
  it('pops items in comparison order', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b)
    for (const n of [5, 3, 9, 1, 7, 3, 0, 8]) heap.push(n)
    expect(heap.size).toBe(8)
    expect(heap.peek()).toBe(0)
    const out: number[] = []
    for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n)
    expect(out).toEqual([0, 1, 3, 3, 5, 7, 8, 9])
    expect(heap.pop()).toBeUndefined()
    expect(heap.peek()).toBeUndefined()
  })

  it('heapifies initial items and agrees with a sort on random input', () => {
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 263)
    const heap = new BinaryHeap<number>((a, b) => b - a, values)
    heap.push(1000)
    const out: number[] = []
    while (heap.size > 0) out.push(heap.pop()!)
    expect(out).toEqual([1000, ...values].sort((a, b) => b - a))
  })

  it('lists and clears its items', () => {
    const heap = new BinaryHeap<string>((a, b) => a.localeCompare(b), ['b', 'a'])
    expect(heap.toArray().sort()).toEqual(['a', 'b'])
    heap.clear()
    expect(heap.size).toBe(0)
  })
})
