import assert from "node:assert/strict";
import { BusiestSecond, rateLimitError, TokenBucket } from "./rate_limit.ts";
import { assertTmdbError, get, type Json, withStandin } from "./test_support.ts";

Deno.test("rate limit: requests over the bucket get 429/25 with Retry-After", async () => {
  await withStandin({ rateLimitPerSecond: 5 }, async (s) => {
    const statuses: number[] = [];
    let limited: { status: number; body: Json; headers: Headers } | undefined;
    for (let i = 0; i < 15; i++) {
      const r = await get(s, "/configuration");
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    assert.ok(statuses.slice(0, 5).every((x) => x === 200), statuses.join(","));
    const n429 = statuses.filter((x) => x === 429).length;
    assert.ok(n429 >= 8, statuses.join(","));
    assertTmdbError(limited!, 429, 25);
    assert.match(limited!.body.status_message, /over the allowed limit of \(5\)/);
    assert.ok(Number(limited!.headers.get("retry-after")) >= 1);
    const stats = s.stats();
    assert.equal(stats.rateLimited, n429);
    assert.equal(stats.byStatus["429"], n429);
    assert.equal(stats.total, 15);
    // All 15 arrived within a second (rate-limited requests count: they reached TMDB).
    assert.equal(stats.busiestSecond, 15);
  });
});

Deno.test("busiestSecond: the most requests in any sliding second, reset with the stats", async () => {
  await withStandin({}, async (s) => {
    for (let i = 0; i < 4; i++) await get(s, "/configuration");
    await new Promise((r) => setTimeout(r, 1_100));
    for (let i = 0; i < 3; i++) await get(s, "/configuration");
    assert.equal(s.stats().busiestSecond, 4);
    s.resetStats();
    assert.equal(s.stats().busiestSecond, 0);
    await get(s, "/configuration");
    assert.equal(s.stats().busiestSecond, 1);
  });
});

Deno.test("TokenBucket: a second's burst, then one token per 1/rate s; null = unlimited", () => {
  let t = 0;
  const bucket = new TokenBucket(4, () => t);
  for (let i = 0; i < 4; i++) assert.equal(bucket.take(), 0);
  const wait = bucket.take();
  assert.ok(wait > 0 && wait <= 0.25, `wait ${wait}`);
  t += 250;
  assert.equal(bucket.take(), 0);
  t += 10_000;
  for (let i = 0; i < 4; i++) assert.equal(bucket.take(), 0, "refills up to the burst only");
  assert.ok(bucket.take() > 0);
  bucket.set(null);
  assert.equal(bucket.perSecond, null);
  for (let i = 0; i < 100; i++) assert.equal(bucket.take(), 0);
  assert.throws(() => bucket.set(0), /rateLimitPerSecond must be > 0 or null, got 0/);
  assert.match(rateLimitError(50)[2], /allowed limit of \(50\)/);
  assert.match(rateLimitError(null)[2], /allowed limit of \(40\)/);
});

Deno.test("BusiestSecond: most arrivals within any 1,000 ms", () => {
  const b = new BusiestSecond();
  for (const at of [0, 100, 200, 999]) b.record(at);
  assert.equal(b.max, 4);
  b.record(1000); // 0 left the window
  assert.equal(b.max, 4);
  for (const at of [1001, 1002]) b.record(at); // 100, 200, 999, 1000, 1001, 1002
  assert.equal(b.max, 6);
  b.reset();
  assert.equal(b.max, 0);
  assert.equal(b.record(5000), 1);
});
