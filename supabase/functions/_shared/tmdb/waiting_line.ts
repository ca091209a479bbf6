/**
 * The callers waiting for a TMDB connection slot, first come first served, and the slots
 * they hold: what both rate limiters share (they differ only in where tokens come from).
 *
 * @module
 */

/** Called once when the caller is done with its connection (a second call does nothing). */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** A FIFO line of callers and the count of slots held; `onRelease` runs when one is freed. */
export class WaitingLine {
  #waiters: Waiter[] = [];
  #active = 0;
  readonly #onRelease: () => void;

  /** `onRelease` is called after every release (the limiter grants the next caller then). */
  constructor(onRelease: () => void) {
    this.#onRelease = onRelease;
  }

  /** Callers waiting. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Slots held. */
  get active(): number {
    return this.#active;
  }

  /**
   * Joins the line. Resolves with a {@link Release} once {@link WaitingLine.grantNext} reaches
   * this caller; rejects with `signal.reason` (and leaves the line) if `signal` aborts first.
   */
  join(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Gives the first caller in line a slot (it holds it until it releases). */
  grantNext(): void {
    const waiter = this.#waiters.shift();
    if (!waiter) return;
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    this.#active++;
    let released = false;
    waiter.resolve(() => {
      if (released) return;
      released = true;
      this.#active--;
      this.#onRelease();
    });
  }

  /** Rejects every waiting caller with `reason` (the line is then empty). */
  rejectAll(reason: unknown): void {
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.reject(reason);
    }
  }
}
