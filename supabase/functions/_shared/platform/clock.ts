/**
 * Injected time: everything that reads the time or waits goes through a {@link Clock}, so
 * tests drive time with a fake one (`testing/fake_clock.ts`) and never sleep for real.
 *
 * @module
 */

/** A source of the current time and of waiting. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds (at once when `ms <= 0`). Rejects with
   * `signal.reason` if `signal` aborts first (or is already aborted).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(id);
        reject(signal?.reason);
      };
      const id = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};
