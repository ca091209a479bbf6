/**
 * A process-wide limit on outgoing TMDB requests: a token bucket (requests per second, with
 * a small burst) plus a cap on simultaneous connections, handed out in FIFO order.
 *
 * TMDB allows "somewhere in the 50 requests per second range" and about 20 connections per
 * IP. A token bucket with rate `r` and burst `b` grants at most `b + r·T` requests in any
 * window of `T` seconds, so the defaults (`r = 40`, `b = 8`) never exceed **48 requests in
 * any 1 s window**, under 50. Keep `burst + requestsPerSecond <= 50` when changing them.
 * While callers wait, tokens are handed out every `quantumMs` (200 ms: 8 at a time at
 * 40/s) rather than one every 25 ms, which keeps the function's event loop asleep longer:
 * every wake-up costs CPU, and the edge runtime meters CPU per request.
 *
 * A waiter first needs a connection slot and then a token, both taken at the moment it is
 * released to run. Taking tokens for requests that then wait for a slot would let them all
 * start together once slots free up, breaking the rate.
 *
 * @module
 */

import { type Clock, systemClock } from "../platform/clock.ts";
import { type Release, WaitingLine } from "./waiting_line.ts";

/** Default requests per second. */
export const DEFAULT_REQUESTS_PER_SECOND = 40;
/** Default token-bucket size: 40/s + 8 keeps every 1 s window at or under 48 requests. */
export const DEFAULT_BURST = 8;
/** Default number of requests allowed in flight at once (TMDB: ~20 connections per IP). */
export const DEFAULT_MAX_CONCURRENT = 20;
/** Default {@link RateLimiterOptions.quantumMs}: at 40/s, 8 tokens (the burst) per wake-up. */
export const DEFAULT_QUANTUM_MS = 200;

/** Options for {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained rate. Default {@link DEFAULT_REQUESTS_PER_SECOND}. */
  requestsPerSecond?: number;
  /** Bucket size: requests allowed back to back after an idle spell. Default {@link DEFAULT_BURST}. */
  burst?: number;
  /** Simultaneous requests. Default {@link DEFAULT_MAX_CONCURRENT}. */
  maxConcurrent?: number;
  /**
   * Shortest wait between two wake-ups while callers queue for tokens, in ms: tokens that
   * accrue meanwhile are granted together. Each wake-up of a function's event loop costs
   * CPU, and the edge runtime meters CPU (see docs/functions.md), so requests go out in
   * small groups rather than one every 1/rate s. The bucket bound is unchanged. Default
   * {@link DEFAULT_QUANTUM_MS}.
   */
  quantumMs?: number;
  /** Time source. Default {@link systemClock}. */
  clock?: Clock;
}

/** A shared gate every outgoing request passes through. */
export interface RateLimiter {
  /**
   * Waits (FIFO) for a connection slot and a rate token. Resolve → the caller may send one
   * request and must call the returned {@link Release} when it is done with the connection
   * (response body read or failed). Rejects with `signal.reason` if `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<Release>;
  /** Grants nothing before `epochMs` (e.g. after a 429 with `Retry-After`). Never shortens a pause. */
  pauseUntil(epochMs: number): void;
  /** Requests currently holding a slot. */
  readonly active: number;
  /** Callers waiting in the queue. */
  readonly queued: number;
}

function positiveNumber(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`\`${name}\` must be a positive number: current value is ${value}`);
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new RangeError(`\`${name}\` must be a positive integer: current value is ${value}`);
  }
  return value;
}

/** Creates a FIFO token-bucket + concurrency limiter (see the module doc for the bound). */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const rate = positiveNumber(
    "requestsPerSecond",
    options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
  );
  const burst = positiveInteger("burst", options.burst ?? DEFAULT_BURST);
  const maxConcurrent = positiveInteger(
    "maxConcurrent",
    options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
  );
  const clock = options.clock ?? systemClock;
  const quantumMs = options.quantumMs ?? DEFAULT_QUANTUM_MS;
  if (!(Number.isFinite(quantumMs) && quantumMs >= 0)) {
    throw new RangeError(`\`quantumMs\` must be a number >= 0: current value is ${quantumMs}`);
  }
  const perMs = rate / 1000;
  // Float drift must not leave the bucket a hair short of a whole token forever.
  const EPSILON = 1e-9;

  const line = new WaitingLine(() => pump());
  let tokens = burst;
  let refilledAt = clock.now();
  let pausedUntil = -Infinity;
  let timerPending = false;

  const refill = (now: number) => {
    if (now > refilledAt) {
      tokens = Math.min(burst, tokens + (now - refilledAt) * perMs);
      refilledAt = now;
    }
  };

  const wakeAfter = (ms: number) => {
    if (timerPending) return;
    timerPending = true;
    clock.sleep(Math.max(1, Math.ceil(ms))).then(() => {
      timerPending = false;
      pump();
    });
  };

  function pump(): void {
    while (line.waiting > 0 && line.active < maxConcurrent) {
      const now = clock.now();
      if (now < pausedUntil) {
        wakeAfter(pausedUntil - now);
        return;
      }
      refill(now);
      if (tokens < 1 - EPSILON) {
        // Wait for a whole token, but at least a quantum (while the bucket has room for
        // what accrues in it): the tokens of the quantum are then granted together.
        const room = (burst - tokens) / perMs;
        wakeAfter(Math.max((1 - tokens) / perMs, Math.min(quantumMs, room)));
        return;
      }
      tokens = Math.max(0, tokens - 1);
      line.grantNext();
    }
  }

  return {
    acquire(signal?: AbortSignal): Promise<Release> {
      const granted = line.join(signal);
      pump();
      return granted;
    },
    pauseUntil(epochMs: number): void {
      if (epochMs > pausedUntil) pausedUntil = epochMs;
    },
    get active() {
      return line.active;
    },
    get queued() {
      return line.waiting;
    },
  };
}

const shared = new Map<string, RateLimiter>();

/**
 * The process-wide limiter for `key` (e.g. a TMDB base URL), created with `options` on
 * first use and returned as is afterwards (later options are ignored). Uses the system
 * clock; pass your own limiter where time is faked.
 */
export function sharedRateLimiter(
  key: string,
  options: Omit<RateLimiterOptions, "clock"> = {},
): RateLimiter {
  let limiter = shared.get(key);
  if (!limiter) {
    limiter = createRateLimiter(options);
    shared.set(key, limiter);
  }
  return limiter;
}
