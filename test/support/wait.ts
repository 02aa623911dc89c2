/** Waiting helpers for tests: poll a condition until it holds or a timeout passes (no fixed sleeps). */

/** Resolves when `check` returns a truthy value (returned), rejects after `timeoutMs` with `message`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000)
  let delay = 1
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (performance.now() > deadline) {
      throw new Error(
        `waitFor timed out after ${options.timeoutMs ?? 10_000} ms: ${options.message ?? check.toString()}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 25)
  }
}

/** Lets pending promise callbacks and immediates run (one macrotask turn). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
