import assert from "node:assert/strict";
import { createApi, endpointOf, parseDate, parsePage } from "./api.ts";
import { createCatalog } from "./catalog.ts";
import { DAY_MS } from "./time.ts";
import { assertTmdbError, get, NOW, withStandin } from "./test_support.ts";

Deno.test("lists: TMDB shape; page must be an integer 1..500 (else 400/22)", async () => {
  // The shape as built: variation would add unknown fields to some envelopes.
  await withStandin({ size: 30_000, variation: false }, async (s) => {
    const popular = await get(s, "/movie/popular?page=2&language=en-US");
    assert.equal(popular.status, 200);
    assert.deepEqual(Object.keys(popular.body), [
      "page",
      "results",
      "total_pages",
      "total_results",
    ]);
    assert.equal(popular.body.page, 2);
    assert.equal(popular.body.results.length, 20);
    assert.ok(popular.body.total_pages > 500, "total_pages may exceed 500 like TMDB's");
    const last = await get(s, "/movie/popular?page=500");
    assert.equal(last.body.results.length, 20);
    for (const bad of ["501", "0", "-1", "abc", "1.5", ""]) {
      assertTmdbError(await get(s, `/movie/popular?page=${bad}`), 400, 22);
    }
    const np = await get(s, "/movie/now_playing");
    assert.deepEqual(Object.keys(np.body.dates), ["maximum", "minimum"]);
    for (const path of ["/trending/movie/day", "/trending/movie/week", "/movie/upcoming"]) {
      assert.equal((await get(s, path)).status, 200, path);
    }
    assertTmdbError(await get(s, "/trending/movie/day?page=501"), 400, 22);
    assertTmdbError(await get(s, "/tv/popular"), 404, 34);
    assertTmdbError(await get(s, "/movie/1"), 404, 34);
    assertTmdbError(await get(s, "/movie/abc"), 404, 34);
  });
});

Deno.test("append_to_response: more than 20 parts → 400/27; unknown parts ignored", async () => {
  await withStandin({}, async (s) => {
    const parts = (n: number) => Array.from({ length: n }, (_, i) => `part${i}`).join(",");
    assertTmdbError(await get(s, `/movie/550?append_to_response=${parts(21)}`), 400, 27);
    const ok = await get(s, `/movie/550?append_to_response=credits,${parts(19)}`);
    assert.equal(ok.status, 200);
    assert.ok(ok.body.credits);
    assert.equal(ok.body.part0, undefined);
  });
});

Deno.test("changes: window > 14 days → 422/20; default window is the last 24 h", async () => {
  // Item keys as built: variation would null some `adult`s and add unknown fields.
  await withStandin({ variation: false }, async (s) => {
    assertTmdbError(
      await get(s, "/movie/changes?start_date=2026-02-01&end_date=2026-02-16"),
      422,
      20,
    );
    const r = await get(s, "/movie/changes?start_date=2026-02-01&end_date=2026-02-15");
    assert.equal(r.status, 200);
    assert.ok(r.body.total_results > 100);
    assert.equal(r.body.results.length, 100);
    assert.deepEqual(Object.keys(r.body.results[0]), ["id", "adult"]);
    assert.equal(r.body.total_pages, Math.ceil(r.body.total_results / 100));
    const expected = s.catalog.changedIds(NOW.getTime() - DAY_MS, NOW.getTime() + 1, NOW.getTime());
    const def = await get(s, "/movie/changes");
    assert.deepEqual(def.body.results.map((x: { id: number }) => x.id), expected.slice(0, 100));
    assertTmdbError(await get(s, "/movie/changes?start_date=yesterday"), 422, 5);
  });
});

Deno.test("parsePage, parseDate and endpointOf follow TMDB's rules", () => {
  assert.equal(parsePage(null), 1);
  assert.equal(parsePage("500"), 500);
  for (const bad of ["501", "0", "-1", "abc", "1.5", "", "0001000"]) {
    assert.equal(parsePage(bad), null, bad);
  }
  assert.deepEqual(parseDate("2026-03-01"), {
    ms: Date.parse("2026-03-01T00:00:00Z"),
    dateOnly: true,
  });
  assert.equal(parseDate("2026-02-30"), null);
  assert.deepEqual(parseDate("2026-03-01 10:00Z"), {
    ms: Date.parse("2026-03-01T10:00Z"),
    dateOnly: false,
  });
  assert.equal(parseDate("yesterday"), null);
  assert.deepEqual(endpointOf("/movie/550"), { endpoint: "/movie/{id}", movieId: 550 });
  assert.deepEqual(endpointOf("/movie/550-fight-club"), { endpoint: "/movie/{id}", movieId: 550 });
  assert.deepEqual(endpointOf("/movie/changes"), { endpoint: "/movie/changes" });
  assert.deepEqual(endpointOf("/tv/1"), { endpoint: "other" });
});

Deno.test("createApi routes without a server: details, 404s, not-found faults, errors", () => {
  const catalog = createCatalog({ size: 500, seed: 3, anchor: NOW });
  const deleted = new Set<number>();
  const route = createApi({ catalog, variation: false, notFoundFault: (id) => deleted.has(id) });
  const q = (s = "") => new URLSearchParams(s);
  const now = NOW.getTime();
  const fc = route("/movie/550", q("append_to_response=credits"), now);
  assert.equal(fc.status, 200);
  assert.deepEqual(
    fc.kind === "json" && fc.body,
    catalog.details(550, now, ["credits"]),
  );
  assert.equal(route("/movie/1", q(), now).status, 404);
  deleted.add(550);
  assert.equal(route("/movie/550", q(), now).status, 404);
  assert.equal(route("/movie/popular", q("page=0"), now).status, 400);
  assert.equal(route("/movie/changes", q("start_date=x"), now).status, 422);
  assert.equal(route("/nope", q(), now).status, 404);
  assert.equal(route("/genre/movie/list", q(), now).status, 200);
});

Deno.test("a movie added or deleted on a day: 404 before / after, listed by /movie/changes that day", async () => {
  await withStandin({ additionsRate: 0.01, deletionsRate: 0.005, variation: false }, async (s) => {
    const day = s.catalog.anchorDay + 2;
    const { added, deleted } = s.catalog.lifecycle.eventsOn(day);
    assert.ok(added.length > 0 && deleted.length > 0);
    const addedId = s.catalog.idOf(added[0]);
    const deletedId = s.catalog.idOf(deleted[0]);
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    s.setNow(new Date(day * DAY_MS - 1));
    assertTmdbError(await get(s, `/movie/${addedId}`), 404, 34);
    assert.equal((await get(s, `/movie/${deletedId}`)).status, 200);
    s.setNow(new Date(day * DAY_MS + 3_600_000));
    assert.equal((await get(s, `/movie/${addedId}`)).body.id, addedId);
    assertTmdbError(await get(s, `/movie/${deletedId}`), 404, 34);
    const feed: number[] = [];
    for (let page = 1;; page++) {
      const r = await get(s, `/movie/changes?start_date=${date}&end_date=${date}&page=${page}`);
      feed.push(...r.body.results.map((x: { id: number }) => x.id));
      if (page >= r.body.total_pages) break;
    }
    assert.ok(feed.includes(addedId) && feed.includes(deletedId), "both in that day's feed");
    const health = await fetch(`${s.origin}/__control/health`).then((r) => r.json());
    assert.equal(health.movies, s.catalog.countAt(day * DAY_MS));
    assert.equal(health.additionsRate, 0.01);
  });
});
