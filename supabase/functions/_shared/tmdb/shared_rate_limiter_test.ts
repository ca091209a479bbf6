import assert from "node:assert/strict";
import { createBucketRateLimiter, tokenBatchFor, type TokenBucket } from "./shared_rate_limiter.ts";
import { FakeClock } from "../testing/fake_clock.ts";

/** A token bucket with the semantics of public.take_tmdb_tokens, on a fake clock. */
function fakeBucket(clock: FakeClock, rate: number, burst: number) {
  let tokens = burst;
  let at = clock.now();
  let pausedUntil = -Infinity;
  const calls: number[] = [];
  const bucket: TokenBucket = {
    take(wanted) {
      calls.push(wanted);
      const now = clock.now();
      if (now < pausedUntil) return Promise.resolve({ granted: 0, wait_ms: pausedUntil - now });
      tokens = Math.min(burst, tokens + (now - at) * rate / 1000);
      at = now;
      const granted = Math.min(wanted, Math.floor(tokens));
      tokens -= granted;
      const wait = granted === wanted ? 0 : Math.ceil((1 - (tokens % 1)) / rate * 1000);
      return Promise.resolve({ granted, wait_ms: wait });
    },
    pause(until) {
      pausedUntil = Math.max(pausedUntil, until.getTime());
      return Promise.resolve();
    },
  };
  return { bucket, calls };
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] > windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

Deno.test("8 limiters sharing one bucket never exceed its rate plus burst together", async () => {
  const clock = new FakeClock({ start: 1_700_000_000_000, autoAdvance: true });
  const { bucket, calls } = fakeBucket(clock, 40, 8);
  const limiters = Array.from({ length: 8 }, () => createBucketRateLimiter(bucket, { clock }));
  const starts: number[] = [];
  await Promise.all(limiters.flatMap((limiter) =>
    Array.from({ length: 50 }, async () => {
      const release = await limiter.acquire();
      starts.push(clock.now());
      await clock.sleep(30);
      release();
    })
  ));
  assert.equal(starts.length, 400);
  assert.ok(maxInWindow(starts, 1_000) <= 48, `${maxInWindow(starts, 1_000)} in one second`);
  // The bucket, not the limiters, paced the run: 392 tokens after the burst at 40/s.
  const span = Math.max(...starts) - Math.min(...starts);
  assert.ok(span >= 9_800 && span <= 10_600, `span ${span} ms`);
  // A limiter the others outpace asks at most once a quantum (200 ms), plus its first ask.
  assert.ok(calls.length <= 8 * (span / 200 + 2), `${calls.length} round trips in ${span} ms`);
});

Deno.test("one limiter alone takes its tokens in batches, not one round trip per request", async () => {
  const clock = new FakeClock({ start: 1_700_000_000_000, autoAdvance: true });
  const { bucket, calls } = fakeBucket(clock, 40, 8);
  const limiter = createBucketRateLimiter(bucket, { clock });
  await Promise.all(Array.from({ length: 200 }, async () => {
    const release = await limiter.acquire();
    await clock.sleep(30);
    release();
  }));
  assert.ok(calls.length <= 200 / 6, `${calls.length} round trips for 200 requests`);
});

Deno.test("a pause (a 429's Retry-After) holds every limiter sharing the bucket", async () => {
  const clock = new FakeClock({ start: 1_700_000_000_000, autoAdvance: true });
  const { bucket } = fakeBucket(clock, 40, 8);
  const a = createBucketRateLimiter(bucket, { clock });
  const b = createBucketRateLimiter(bucket, { clock });
  const t0 = clock.now();
  a.pauseUntil(t0 + 5_000);
  await Promise.resolve();
  const [ra, rb] = await Promise.all([a.acquire(), b.acquire()]);
  assert.ok(clock.now() >= t0 + 5_000, `granted after ${clock.now() - t0} ms`);
  ra();
  rb();
});

Deno.test("a limiter keeps its own cap on simultaneous requests", async () => {
  const clock = new FakeClock({ start: 1_700_000_000_000, autoAdvance: true });
  const { bucket } = fakeBucket(clock, 50, 50);
  const limiter = createBucketRateLimiter(bucket, { clock, maxConcurrent: 3 });
  let inFlight = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    const release = await limiter.acquire();
    most = Math.max(most, ++inFlight);
    await clock.sleep(100);
    inFlight--;
    release();
  }));
  assert.equal(most, 3);
  assert.equal(limiter.active, 0);
});

Deno.test("when the bucket cannot be reached the waiting callers are rejected with the error", async () => {
  const errors: unknown[] = [];
  const limiter = createBucketRateLimiter({
    take: () => Promise.reject(new Error("connection refused")),
    pause: () => Promise.resolve(),
  }, { onError: (e) => errors.push(e) });
  await assert.rejects(limiter.acquire(), /connection refused/);
  assert.equal(errors.length, 1);
  assert.equal(limiter.queued, 0);
});

Deno.test("an aborted acquire leaves the queue", async () => {
  const clock = new FakeClock({ start: 0 });
  const { bucket } = fakeBucket(clock, 1, 1);
  const limiter = createBucketRateLimiter(bucket, { clock, maxConcurrent: 1 });
  const first = await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  controller.abort(new Error("gave up"));
  await assert.rejects(waiting, /gave up/);
  assert.equal(limiter.queued, 0);
  first();
});

Deno.test("after its own 429 a limiter spends no token it already holds before the pause ends", async () => {
  const clock = new FakeClock({ start: 1_700_000_000_000, autoAdvance: true });
  const { bucket } = fakeBucket(clock, 50, 50);
  // The bucket ignores pauses here: only the limiter's own copy can hold the caller.
  const limiter = createBucketRateLimiter(
    { take: bucket.take, pause: () => Promise.resolve() },
    { clock },
  );
  const t0 = clock.now();
  limiter.pauseUntil(t0 + 3_000);
  const [r1, r2] = await Promise.all([limiter.acquire(), limiter.acquire()]);
  assert.ok(clock.now() >= t0 + 3_000, `granted after ${clock.now() - t0} ms`);
  r1();
  r2();
});

Deno.test("tokenBatchFor: one process alone reaches its own ceiling asking once a quantum", () => {
  assert.equal(tokenBatchFor(40), 8);
  assert.equal(tokenBatchFor(50), 10);
  assert.equal(tokenBatchFor(1), 1);
  assert.equal(tokenBatchFor(1_000), 50);
});
