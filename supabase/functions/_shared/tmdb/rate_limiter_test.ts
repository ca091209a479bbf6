import assert from "node:assert/strict";
import { createRateLimiter, DEFAULT_BURST, sharedRateLimiter } from "./rate_limiter.ts";
import { FakeClock } from "../testing/fake_clock.ts";

/** Largest number of timestamps in any closed window [t, t + windowMs]. */
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

/** Runs `n` concurrent tasks through the limiter, each holding its slot for `holdMs(i)`. */
async function runConcurrent(
  n: number,
  options: {
    requestsPerSecond?: number;
    burst?: number;
    maxConcurrent?: number;
    quantumMs?: number;
  },
  holdMs: (i: number) => number,
) {
  const clock = new FakeClock({ start: 1_700_000_000_000, autoAdvance: true });
  const limiter = createRateLimiter({ ...options, clock });
  const starts: number[] = [];
  const order: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const release = await limiter.acquire();
      starts.push(clock.now());
      order.push(i);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await clock.sleep(holdMs(i));
      inFlight--;
      release();
    }),
  );
  return { starts, order, maxInFlight, limiter };
}

Deno.test("200 concurrent acquirers never exceed 48 grants in any 1 s window at the defaults", async () => {
  const { starts, order, maxInFlight } = await runConcurrent(200, {}, (i) => 20 + (i % 7) * 10);
  assert.equal(starts.length, 200);
  const worst = maxInWindow(starts, 1_000);
  assert.ok(worst <= 40 + DEFAULT_BURST, `worst 1 s window had ${worst} grants`);
  // The limit is what paces the run (not something slower): the busiest window is close
  // to the bound, and 200 grants take about (200 - burst) / 40 s.
  assert.ok(worst >= 40, `worst 1 s window had only ${worst} grants`);
  const span = Math.max(...starts) - Math.min(...starts);
  assert.equal(span, Math.ceil(((200 - DEFAULT_BURST) / 40) * 1000));
  assert.ok(maxInFlight <= 20);
  assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i), "grants are FIFO");
});

Deno.test("a custom rate and burst bound every window by burst + rate", async () => {
  const { starts } = await runConcurrent(
    120,
    { requestsPerSecond: 10, burst: 3, maxConcurrent: 50, quantumMs: 0 },
    () => 1,
  );
  for (const windowMs of [100, 1_000, 2_500]) {
    const worst = maxInWindow(starts, windowMs);
    assert.ok(worst <= 3 + Math.floor((10 * windowMs) / 1000), `${windowMs} ms: ${worst}`);
  }
  // Without a quantum: the burst is granted at once, then one grant every 100 ms.
  assert.deepEqual(starts.slice(0, 5).map((t) => t - starts[0]), [0, 0, 0, 100, 200]);
});

Deno.test("with the default quantum, grants go out in groups of 8 every 200 ms: 5 wake-ups a second, not 40", async () => {
  const { starts } = await runConcurrent(208, { maxConcurrent: 200 }, () => 1);
  const offsets = starts.map((t) => t - starts[0]);
  const groups = new Map<number, number>();
  for (const t of offsets) groups.set(t, (groups.get(t) ?? 0) + 1);
  // The burst at once, then 8 every 200 ms.
  assert.deepEqual([...groups.entries()].slice(0, 4), [[0, 8], [200, 8], [400, 8], [600, 8]]);
  assert.equal(groups.size, 26, "26 wake-ups for 208 grants");
  // The bound holds: never more than burst + rate in any 1 s window, and the rate is kept.
  assert.ok(maxInWindow(starts, 1_000) <= 40 + DEFAULT_BURST);
  assert.equal(Math.max(...offsets), 5_000);
});

Deno.test("slow requests never hold more than maxConcurrent slots", async () => {
  const { maxInFlight, limiter } = await runConcurrent(100, { maxConcurrent: 20 }, () => 2_000);
  assert.equal(maxInFlight, 20);
  assert.equal(limiter.active, 0);
  assert.equal(limiter.queued, 0);
});

Deno.test("release() is idempotent and frees exactly one slot", async () => {
  const clock = new FakeClock({ autoAdvance: true });
  const limiter = createRateLimiter({ maxConcurrent: 1, burst: 10, clock });
  const first = await limiter.acquire();
  let secondGranted = false;
  const second = limiter.acquire().then((r) => {
    secondGranted = true;
    return r;
  });
  await clock.advance(0);
  assert.equal(secondGranted, false);
  first();
  first();
  (await second)();
  assert.equal(limiter.active, 0);
});

Deno.test("an aborted acquire() leaves the queue and rejects with the abort reason", async () => {
  const clock = new FakeClock();
  const limiter = createRateLimiter({ maxConcurrent: 1, clock });
  const held = await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  const next = limiter.acquire();
  assert.equal(limiter.queued, 2);
  controller.abort(new Error("caller gave up"));
  await assert.rejects(waiting, /caller gave up/);
  assert.equal(limiter.queued, 1);
  held();
  (await next)();
  await assert.rejects(limiter.acquire(controller.signal), /caller gave up/);
});

Deno.test("pauseUntil() holds every grant until the pause ends", async () => {
  const clock = new FakeClock({ start: 0 });
  const limiter = createRateLimiter({ clock });
  limiter.pauseUntil(5_000);
  limiter.pauseUntil(1_000); // never shortens a pause
  let grantedAt: number | null = null;
  const pending = limiter.acquire().then((release) => {
    grantedAt = clock.now();
    release();
  });
  await clock.advance(4_999);
  assert.equal(grantedAt, null);
  await clock.advance(1);
  await pending;
  assert.equal(grantedAt, 5_000);
});

Deno.test("createRateLimiter() rejects invalid options and names the value", () => {
  assert.throws(
    () => createRateLimiter({ requestsPerSecond: 0 }),
    /`requestsPerSecond` must be a positive number: current value is 0/,
  );
  assert.throws(
    () => createRateLimiter({ burst: 1.5 }),
    /`burst` must be a positive integer: current value is 1.5/,
  );
  assert.throws(
    () => createRateLimiter({ maxConcurrent: -1 }),
    /`maxConcurrent` must be a positive integer: current value is -1/,
  );
});

Deno.test("sharedRateLimiter() returns one limiter per key", () => {
  const a = sharedRateLimiter("https://example.test/rate-limiter-test-a");
  assert.equal(sharedRateLimiter("https://example.test/rate-limiter-test-a"), a);
  assert.notEqual(sharedRateLimiter("https://example.test/rate-limiter-test-b"), a);
});
