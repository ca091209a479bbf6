import assert from "node:assert/strict";
import { backoffDelay, parseRetryAfter } from "./backoff.ts";

/** A deterministic uniform generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const opts = { baseMs: 500, capMs: 8_000 };

Deno.test("backoffDelay() without jitter doubles from baseMs and stops at capMs", () => {
  const delays = [1, 2, 3, 4, 5, 6, 50, 5_000].map((a) =>
    backoffDelay(a, { ...opts, jitter: "none" })
  );
  assert.deepEqual(delays, [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000]);
});

Deno.test("backoffDelay() with full jitter stays in [0, d) and spreads over the range", () => {
  const random = seeded(42);
  for (const attempt of [1, 2, 3, 4, 5, 8]) {
    const d = Math.min(8_000, 500 * 2 ** (attempt - 1));
    const samples = Array.from({ length: 2_000 }, () => backoffDelay(attempt, { ...opts, random }));
    assert.ok(samples.every((s) => Number.isInteger(s) && s >= 0 && s < d), `attempt ${attempt}`);
    // Every quarter of the range is hit, and the mean is near d/2.
    for (let q = 0; q < 4; q++) {
      assert.ok(samples.some((s) => s >= (q * d) / 4 && s < ((q + 1) * d) / 4), `quarter ${q}`);
    }
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    assert.ok(Math.abs(mean - d / 2) < d * 0.05, `attempt ${attempt}: mean ${mean}`);
    assert.ok(new Set(samples).size > 100, "delays are not all the same");
  }
});

Deno.test("backoffDelay() with equal jitter stays in [d/2, d)", () => {
  const random = seeded(7);
  for (const attempt of [1, 2, 3, 4, 5, 9]) {
    const d = Math.min(8_000, 500 * 2 ** (attempt - 1));
    const samples = Array.from(
      { length: 1_000 },
      () => backoffDelay(attempt, { ...opts, jitter: "equal", random }),
    );
    assert.ok(samples.every((s) => s >= d / 2 && s < d), `attempt ${attempt}`);
    assert.ok(samples.some((s) => s < d * 0.6) && samples.some((s) => s > d * 0.9));
  }
});

Deno.test("backoffDelay() takes the extremes of random() to the ends of the range", () => {
  assert.equal(backoffDelay(3, { ...opts, random: () => 0 }), 0);
  assert.equal(backoffDelay(3, { ...opts, jitter: "equal", random: () => 0 }), 1_000);
  assert.equal(backoffDelay(3, { ...opts, jitter: "equal", random: () => 0.999999 }), 1_999);
});

Deno.test("backoffDelay() rejects invalid arguments and names the value", () => {
  assert.throws(
    () => backoffDelay(0, opts),
    /`attempt` must be an integer >= 1: current value is 0/,
  );
  assert.throws(
    () => backoffDelay(1, { baseMs: -1, capMs: 10 }),
    /`baseMs` must be a finite number >= 0: current value is -1/,
  );
  assert.throws(
    () => backoffDelay(1, { baseMs: 100, capMs: 50 }),
    /`capMs` must be a finite number >= baseMs \(100\): current value is 50/,
  );
});

Deno.test("parseRetryAfter() reads delta-seconds", () => {
  assert.equal(parseRetryAfter("0", 0), 0);
  assert.equal(parseRetryAfter("3", 0), 3_000);
  assert.equal(parseRetryAfter(" 120 ", 0), 120_000);
  assert.equal(parseRetryAfter("1.5", 0), 1_500);
});

Deno.test("parseRetryAfter() reads an HTTP-date relative to now, past dates giving 0", () => {
  const now = Date.parse("2026-10-21T07:28:00Z");
  assert.equal(parseRetryAfter("Wed, 21 Oct 2026 07:28:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2026 07:27:00 GMT", now), 0);
});

Deno.test("parseRetryAfter() returns null when the header is absent or unreadable", () => {
  for (const header of [null, undefined, "", "  ", "-1", "soon", "1e3", "12abc"]) {
    assert.equal(parseRetryAfter(header, 0), null, `header ${JSON.stringify(header)}`);
  }
});
