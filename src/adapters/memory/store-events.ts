/** A listener of one of the memory store's feeds. */
type Listener<T> = (values: readonly T[]) => void

/**
 * The memory store's wake-up feeds (`onJobsAvailable`, `onJobsCancelled`). Listeners are called in
 * a microtask after the change, never inside the store call, so a listener that calls the store
 * again sees a consistent store; an exception thrown by a listener is swallowed (it must not break
 * the store call that caused the notification, which has already returned).
 */
export class StoreEvents {
  readonly #available = new Set<Listener<string>>()
  readonly #cancelled = new Set<Listener<string>>()

  /** Subscribes to queue names in which jobs became due; returns an unsubscribe function. */
  onAvailable(listener: Listener<string>): () => void {
    return subscribe(this.#available, listener)
  }

  /** Subscribes to ids of cancelled jobs; returns an unsubscribe function. */
  onCancelled(listener: Listener<string>): () => void {
    return subscribe(this.#cancelled, listener)
  }

  /** Tells available-listeners about these queues (nothing when empty). */
  emitAvailable(queues: readonly string[]): void {
    emit(this.#available, queues)
  }

  /** Tells cancelled-listeners about these job ids (nothing when empty). */
  emitCancelled(ids: readonly string[]): void {
    emit(this.#cancelled, ids)
  }
}

function subscribe<T>(listeners: Set<Listener<T>>, listener: Listener<T>): () => void {
  const own = (values: readonly T[]) => listener(values)
  listeners.add(own)
  return () => {
    listeners.delete(own)
  }
}

function emit<T>(listeners: Set<Listener<T>>, values: readonly T[]): void {
  if (values.length === 0 || listeners.size === 0) return
  const frozen = Object.freeze([...values])
  const targets = [...listeners]
  queueMicrotask(() => {
    for (const listener of targets) {
      try {
        listener(frozen)
      } catch {
        // A failing listener must not affect the store or other listeners.
      }
    }
  })
}
