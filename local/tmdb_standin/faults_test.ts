import assert from "node:assert/strict";
import { Faults } from "./faults.ts";
import { assertTmdbError, AUTH, control, get, withStandin } from "./test_support.ts";

Deno.test("5xx / 429 faults: rates honoured, counted, deterministic per seed", async () => {
  const run = async () => {
    let counts = { e5xx: 0, e429: 0, noRetryAfter: 0, html: 0 };
    await withStandin({}, async (s) => {
      const set = await control(s, "faults", {
        errorRate5xx: 0.2,
        rate429: 0.1,
        retryAfterSeconds: null,
        seed: 42,
      });
      assert.equal(set.ok, true);
      for (let i = 0; i < 300; i++) {
        const res = await fetch(`${s.url}/configuration`, { headers: AUTH });
        const text = await res.text();
        if (res.status >= 500) {
          counts.e5xx++;
          if (res.status === 502) {
            counts.html++;
            assert.match(text, /<html>/);
          } else assert.equal(typeof JSON.parse(text).status_code, "number");
        } else if (res.status === 429) {
          counts.e429++;
          if (res.headers.get("retry-after") === null) counts.noRetryAfter++;
          assert.equal(JSON.parse(text).status_code, 25);
        } else assert.equal(res.status, 200);
      }
      const stats = await control(s, "stats");
      assert.equal(stats.injected.error5xx, counts.e5xx);
      assert.equal(stats.injected.rate429, counts.e429);
      assert.equal(stats.rateLimited, 0);
      assert.equal(stats.total, 300);
      assert.equal(stats.byEndpoint["/configuration"], 300);
      await control(s, "reset", {});
      assert.equal((await control(s, "stats")).total, 0);
    });
    counts = { ...counts };
    return counts;
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(first, second, "same fault seed → same fault sequence");
  assert.ok(first.e5xx >= 40 && first.e5xx <= 80, `5xx count ${first.e5xx}`);
  assert.ok(first.e429 >= 15 && first.e429 <= 45, `429 count ${first.e429}`);
  assert.equal(first.noRetryAfter, first.e429);
  assert.ok(first.html > 0);
});

Deno.test("malformed JSON fault: 200 with a body that does not parse", async () => {
  await withStandin({ faults: { malformedJsonRate: 1 } }, async (s) => {
    for (const path of ["/movie/550", "/movie/popular", "/configuration"]) {
      const res = await fetch(`${s.url}${path}`, { headers: AUTH });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.length > 0);
      assert.throws(() => JSON.parse(text), SyntaxError);
    }
    // Errors are not mangled.
    assertTmdbError(await get(s, "/movie/1"), 404, 34);
    assert.equal(s.stats().injected.malformedJson, 3);
  });
});

Deno.test("hang fault: no answer within a short client timeout; close() still returns", async () => {
  await withStandin({ faults: { hangRate: 1 } }, async (s) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 150);
    const started = performance.now();
    await assert.rejects(
      fetch(`${s.url}/movie/550`, { headers: AUTH, signal: controller.signal }),
      (e: Error) => e.name === "AbortError",
    );
    clearTimeout(timer);
    assert.ok(performance.now() - started >= 140);
    assert.equal(s.stats().injected.hang, 1);
    // A hang bounded by hangMs answers normally afterwards.
    s.setFaults({ hangRate: 1, hangMs: 50 });
    const t0 = performance.now();
    assert.equal((await get(s, "/movie/550")).status, 200);
    assert.ok(performance.now() - t0 >= 45);
    // A hang still pending when the server closes does not keep close() waiting.
    s.setFaults({ hangRate: 1 });
    const pending = fetch(`${s.url}/movie/550`, { headers: AUTH }).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    }, () => 0);
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    assert.ok([0, 503].includes(await pending));
  });
});

Deno.test("not-found faults: listed ids and a deterministic share of ids → 404/34", async () => {
  await withStandin({}, async (s) => {
    await control(s, "faults", { notFoundIds: [550] });
    assertTmdbError(await get(s, "/movie/550"), 404, 34);
    const other = s.catalog.ids[10];
    assert.equal((await get(s, `/movie/${other}`)).status, 200);

    await control(s, "faults", { notFoundRate: 0.3, seed: 7 });
    const ids = Array.from(s.catalog.ids.slice(0, 100));
    const pass1: number[] = [];
    for (const id of ids) pass1.push((await get(s, `/movie/${id}`)).status);
    const pass2: number[] = [];
    for (const id of ids) pass2.push((await get(s, `/movie/${id}`)).status);
    assert.deepEqual(pass1, pass2, "same ids 404 every time");
    const n404 = pass1.filter((x) => x === 404).length;
    assert.ok(n404 >= 15 && n404 <= 45, `404 count ${n404}`);
    const stats = s.stats();
    assert.equal(stats.injected.notFound, 1 + 2 * n404);
    assert.equal(stats.byMovieId[String(ids[1])], 2);
    assert.equal(stats.byEndpoint["/movie/{id}"], 202);
  });
});

Deno.test("Faults.plan: each kind takes its share of [0, 1) in turn; validation; not-found ids", () => {
  const faults = new Faults({ hangRate: 0.1, errorRate5xx: 0.2, rate429: 0.3, hangMs: 5 });
  assert.deepEqual(faults.plan(0.05, 0, 50), { kind: "hang", ms: 5 });
  const e = faults.plan(0.15, 0.5, 50);
  assert.equal(e.kind, "5xx");
  assert.equal(e.kind === "5xx" && e.answer.status, 502);
  assert.equal(faults.plan(0.15, 0.1, 50).kind, "5xx");
  const r = faults.plan(0.45, 0, 50);
  assert.equal(r.kind, "429");
  if (r.kind === "429" && r.answer.kind === "json") {
    assert.equal(r.answer.headers?.["retry-after"], "1");
    assert.match(JSON.stringify(r.answer.body), /allowed limit of \(50\)/);
  }
  assert.deepEqual(faults.plan(0.7, 0, 50), { kind: "none" });
  faults.set({ malformedJsonRate: 0.5, retryAfterSeconds: null });
  assert.deepEqual(faults.plan(0.2, 0, null), { kind: "malformed" });
  assert.deepEqual(faults.plan(0.6, 0, null), { kind: "none" });
  assert.throws(() => faults.set({ errorRate5xx: 0.7, rate429: 0.7 }));
  // Draws restart with the seed.
  faults.set({ seed: 3 });
  const a = [faults.draw(), faults.draw()];
  faults.set({ seed: 3 });
  assert.deepEqual([faults.draw(), faults.draw()], a);
  faults.set({ notFoundIds: [7], notFoundRate: 0.5, seed: 2 });
  assert.ok(faults.notFound(7));
  const share = Array.from({ length: 2000 }, (_, i) => faults.notFound(i + 100)).filter(Boolean)
    .length;
  assert.ok(share > 850 && share < 1150, `${share} of 2000`);
});
