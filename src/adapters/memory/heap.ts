/** A binary min-heap ordered by a comparison function (negative = `a` comes first). */
export class BinaryHeap<T> {
  readonly #compare: (a: T, b: T) => number
  #items: T[]

  /** Creates a heap ordered by `compare`, optionally from unordered `items` (heapified in O(n)). */
  constructor(compare: (a: T, b: T) => number, items: readonly T[] = []) {
    this.#compare = compare
    this.#items = [...items]
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#down(i)
  }

  /** Number of items in the heap. */
  get size(): number {
    return this.#items.length
  }

  /** The first item without removing it. */
  peek(): T | undefined {
    return this.#items[0]
  }

  /** Adds an item in O(log n). */
  push(item: T): void {
    this.#items.push(item)
    this.#up(this.#items.length - 1)
  }

  /** Removes and returns the first item in O(log n). */
  pop(): T | undefined {
    const items = this.#items
    const first = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      this.#down(0)
    }
    return first
  }

  /** The items in no particular order (a copy). */
  toArray(): T[] {
    return [...this.#items]
  }

  /** Removes every item. */
  clear(): void {
    this.#items = []
  }

  #up(index: number): void {
    const items = this.#items
    const item = items[index] as T
    let i = index
    while (i > 0) {
      const parent = (i - 1) >> 1
      const above = items[parent] as T
      if (this.#compare(item, above) >= 0) break
      items[i] = above
      i = parent
    }
    items[i] = item
  }

  #down(index: number): void {
    const items = this.#items
    const n = items.length
    const item = items[index] as T
    let i = index
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      let child = left
      if (right < n && this.#compare(items[right] as T, items[left] as T) < 0) child = right
      const below = items[child] as T
      if (this.#compare(below, item) >= 0) break
      items[i] = below
      i = child
    }
    items[i] = item
  }
}
