/**
 * A {@link Clock} for tests: time moves only when the test (or a fake) moves it.
 *
 * @module
 */

import type { Clock } from "../platform/clock.ts";

/** Options for {@link FakeClock}. */
export interface FakeClockOptions {
  /** Initial time in epoch milliseconds. Default `0`. */
  start?: number;
  /**
   * When `true`, time jumps to the earliest pending `sleep` as soon as every other pending
   * task has run (one macrotask turn), so code under test runs to completion without the
   * test calling {@link FakeClock.advance}. Default `false`.
   */
  autoAdvance?: boolean;
  /** When `true`, `sleep(ms)` moves time on by `ms` at once and resolves. Default `false`. */
  instantSleep?: boolean;
}

interface FakeTimer {
  at: number;
  seq: number;
  resolve: () => void;
  cleanup: () => void;
}

/** Lets every queued microtask (and 0 ms macrotask) run before continuing. */
function nextMacrotask(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/**
 * A {@link Clock} for tests. `sleep` resolves only when time is moved past its deadline,
 * either by {@link FakeClock.advance} or, with `autoAdvance`, whenever the program is idle.
 * Timers fire in deadline order (ties: in the order they were created).
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];
  #autoAdvance: boolean;
  #instantSleep: boolean;
  #tickScheduled = false;

  /** Creates a fake clock at `options.start` (default epoch 0). */
  constructor(options: FakeClockOptions = {}) {
    this.#now = options.start ?? 0;
    this.#autoAdvance = options.autoAdvance ?? false;
    this.#instantSleep = options.instantSleep ?? false;
  }

  /** The fake current time in epoch milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Number of `sleep` calls still waiting. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Waits until the fake time reaches `now() + ms`. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!(ms > 0)) return Promise.resolve();
    if (this.#instantSleep) {
      this.jump(ms);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      const timer: FakeTimer = {
        at: this.#now + ms,
        seq: this.#seq++,
        resolve,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#timers.push(timer);
      this.#scheduleTick();
    });
  }

  /**
   * Moves time forward by `ms` at once (e.g. from inside a fake that "takes" that long),
   * resolving the sleeps now due.
   */
  jump(ms: number): void {
    this.#fireAt(this.#now + Math.max(0, ms));
  }

  /**
   * Moves time forward by `ms`, firing due timers one deadline at a time and letting the
   * code they wake run (so sleeps it starts within the window also fire).
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await nextMacrotask();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#fireAt(next.at);
      await nextMacrotask();
    }
    this.#now = Math.max(this.#now, target);
    await nextMacrotask();
  }

  /** Fires timers (jumping time forward) until none is pending; at most `maxSteps` jumps. */
  async runAll(maxSteps = 100_000): Promise<void> {
    await nextMacrotask();
    for (let step = 0; step < maxSteps; step++) {
      const next = this.#earliest();
      if (next === undefined) return;
      this.#fireAt(next.at);
      await nextMacrotask();
    }
    throw new Error(`FakeClock.runAll(): timers still pending after ${maxSteps} steps`);
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) {
        best = t;
      }
    }
    return best;
  }

  #fireAt(at: number): void {
    this.#now = Math.max(this.#now, at);
    const due = this.#timers.filter((t) => t.at <= at).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.#timers = this.#timers.filter((t) => t.at > at);
    for (const t of due) {
      t.cleanup();
      t.resolve();
    }
  }

  #scheduleTick(): void {
    if (!this.#autoAdvance || this.#tickScheduled) return;
    this.#tickScheduled = true;
    setTimeout(() => {
      this.#tickScheduled = false;
      const next = this.#earliest();
      if (next === undefined) return;
      this.#fireAt(next.at);
      if (this.#timers.length > 0) this.#scheduleTick();
    }, 0);
  }
}
