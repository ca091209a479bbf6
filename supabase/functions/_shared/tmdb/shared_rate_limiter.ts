/**
 * A {@link RateLimiter} whose tokens come from the one TMDB token bucket in Postgres
 * (`public.take_tmdb_tokens`, migration 027), shared by every process of every function: N
 * concurrent runs together stay within the bucket's rate plus burst, and a 429's
 * `Retry-After` pauses all of them (`public.pause_tmdb_requests`).
 *
 * Tokens are fetched in small batches (what the callers waiting right now need, at most
 * `batch`) and spent locally, and a caller that got none waits at least `quantumMs` before
 * asking again: one round trip per batch, few event-loop wake-ups. A process also keeps its
 * own cap on simultaneous connections.
 *
 * @module
 */

import type postgres from "postgres";
import { z } from "zod";
import { type Clock, systemClock } from "../platform/clock.ts";
import { parseSqlResult } from "../platform/db.ts";
import { DEFAULT_MAX_CONCURRENT, DEFAULT_QUANTUM_MS, type RateLimiter } from "./rate_limiter.ts";
import { type Release, WaitingLine } from "./waiting_line.ts";

/** Tokens asked for in one round trip: 10 a quantum of 200 ms is 50 requests a second. */
export const DEFAULT_TOKEN_BATCH = 10;

/**
 * The batch that lets one process alone reach `requestsPerSecond` (and no more) asking once
 * a quantum: 40 a second → 8 tokens every 200 ms.
 */
export function tokenBatchFor(requestsPerSecond: number, quantumMs = DEFAULT_QUANTUM_MS): number {
  return Math.min(50, Math.max(1, Math.round(requestsPerSecond * quantumMs / 1000)));
}

/** What the bucket answered: tokens granted, and how long to wait when fewer than asked. */
export interface TokenGrant {
  /** Tokens granted (0..wanted). */
  granted: number;
  /** Milliseconds until the next token (or the end of a pause); 0 when all were granted. */
  wait_ms: number;
}

/** The bucket, as the limiter uses it. */
export interface TokenBucket {
  /** Takes up to `wanted` tokens (1..50). */
  take(wanted: number): Promise<TokenGrant>;
  /** No token before `until` (a pause is only lengthened). */
  pause(until: Date): Promise<void>;
}

/** Options for {@link createBucketRateLimiter}. */
export interface BucketRateLimiterOptions {
  /**
   * Most tokens taken in one round trip. Default {@link DEFAULT_TOKEN_BATCH}: with one ask a
   * quantum, one process alone can reach `batch` × 1000 / `quantumMs` requests a second.
   */
  batch?: number;
  /** Least wait before asking again after getting no token. Default {@link DEFAULT_QUANTUM_MS}. */
  quantumMs?: number;
  /** Simultaneous requests of this process. Default {@link DEFAULT_MAX_CONCURRENT}. */
  maxConcurrent?: number;
  /** Time source. Default {@link systemClock}. */
  clock?: Clock;
  /** Told when the bucket could not be reached (the waiting callers are rejected). */
  onError?: (error: unknown) => void;
}

const count = z.number().int().nonnegative();
const tokenGrantSchema = z.object({ granted: count, wait_ms: count });

/** The {@link TokenBucket} of `public.tmdb_rate_limit` over postgres.js. */
export function createPostgresTokenBucket(sql: postgres.Sql): TokenBucket {
  return {
    async take(wanted) {
      const rows = await sql`select public.take_tmdb_tokens(${wanted}::integer) as r`;
      return parseSqlResult("public.take_tmdb_tokens", tokenGrantSchema, rows[0]?.r);
    },
    async pause(until) {
      await sql`select public.pause_tmdb_requests(${until.toISOString()}::timestamptz)`;
    },
  };
}

/** Creates a {@link RateLimiter} over `bucket` (see the module docs). */
export function createBucketRateLimiter(
  bucket: TokenBucket,
  options: BucketRateLimiterOptions = {},
): RateLimiter {
  const batch = options.batch ?? DEFAULT_TOKEN_BATCH;
  const quantumMs = options.quantumMs ?? DEFAULT_QUANTUM_MS;
  const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
  const clock = options.clock ?? systemClock;
  for (const [name, value] of [["batch", batch], ["maxConcurrent", maxConcurrent]] as const) {
    if (!(Number.isInteger(value) && value >= 1 && value <= 50)) {
      throw new RangeError(
        `\`${name}\` must be an integer from 1 to 50: current value is ${value}`,
      );
    }
  }
  const line = new WaitingLine(() => pump());
  let tokens = 0;
  let fetching = false;
  /** This process's copy of a pause it asked for (the bucket's holds the others). */
  let pausedUntil = -Infinity;

  const grantReady = () => {
    if (clock.now() < pausedUntil) return;
    while (line.waiting > 0 && line.active < maxConcurrent && tokens >= 1) {
      tokens--;
      line.grantNext();
    }
  };

  const refill = async () => {
    fetching = true;
    try {
      for (;;) {
        const pause = pausedUntil - clock.now();
        if (pause > 0) await clock.sleep(pause);
        let wait = 0;
        if (line.waiting > tokens) {
          const grant = await bucket.take(Math.min(batch, line.waiting - tokens));
          tokens += grant.granted;
          wait = grant.wait_ms;
        }
        grantReady();
        if (line.waiting === 0 || line.active >= maxConcurrent) return;
        // Callers still waiting: ask again after the bucket's wait, and never sooner than a
        // quantum: meanwhile its tokens accrue and come back together, and a process the
        // others outpace asks at most once a quantum.
        await clock.sleep(Math.max(wait, quantumMs));
      }
    } catch (error) {
      options.onError?.(error);
      line.rejectAll(error);
    } finally {
      fetching = false;
    }
  };

  function pump(): void {
    grantReady();
    if (line.waiting > 0 && line.active < maxConcurrent && !fetching) refill();
  }

  return {
    acquire(signal?: AbortSignal): Promise<Release> {
      const granted = line.join(signal);
      pump();
      return granted;
    },
    pauseUntil(epochMs: number): void {
      pausedUntil = Math.max(pausedUntil, epochMs);
      bucket.pause(new Date(epochMs)).catch((error) => options.onError?.(error));
    },
    get active() {
      return line.active;
    },
    get queued() {
      return line.waiting;
    },
  };
}
