import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import { listInstant, topK } from "./lists.ts";
import { unit4 } from "./random.ts";
import { DAY_MS, HOUR_MS } from "./time.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");

Deno.test("lists: popular by popularity desc, now_playing window, trending differs and drifts", () => {
  const cat = createCatalog({ size: 5000, seed: 1, anchor: NOW });
  const p1 = cat.popular(NOW, 1);
  const p2 = cat.popular(NOW, 2);
  assert.equal(p1.results.length, 20);
  assert.equal(p1.total_results, p2.total_results);
  assert.equal(p1.total_pages, Math.ceil(p1.total_results / 20));
  const pops = [...p1.results, ...p2.results].map((m) => m.popularity);
  for (let i = 1; i < pops.length; i++) assert.ok(pops[i] <= pops[i - 1]);
  assert.deepEqual(Object.keys(p1.results[0]), [
    "adult",
    "backdrop_path",
    "genre_ids",
    "id",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "release_date",
    "title",
    "video",
    "vote_average",
    "vote_count",
  ]);
  // List items agree with details as of the list's hour.
  const at = cat.listInstant(NOW);
  const top = p1.results[0];
  assert.equal(cat.details(top.id, at)!.popularity, top.popularity);
  assert.equal(cat.popular(NOW, 500).results.length, 0);

  const np = cat.nowPlaying(NOW, 1);
  assert.ok(np.dates);
  assert.ok(np.total_results > 0);
  for (const m of np.results) {
    assert.ok(m.release_date >= np.dates.minimum && m.release_date <= np.dates.maximum);
  }

  const day1 = cat.trending("day", NOW, 1).results.map((m) => m.id);
  const day2 = cat.trending("day", NOW + DAY_MS, 1).results.map((m) => m.id);
  const week = cat.trending("week", NOW, 1).results.map((m) => m.id);
  const popular = p1.results.map((m) => m.id);
  assert.notDeepEqual(day1, popular);
  assert.notDeepEqual(day1, day2);
  assert.notDeepEqual(week, day1);
  assert.equal(cat.trending("day", NOW, 1).results[0].media_type, "movie");
  assert.deepEqual(cat.trending("day", NOW + HOUR_MS / 2, 1).results.map((m) => m.id), day1);
});

Deno.test("topK: the k best by score, ties by id, same as a full sort", () => {
  const n = 5000;
  const score = new Float64Array(n);
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    score[i] = Math.floor(unit4(1, i) * 50); // many ties
    ids[i] = n - i;
  }
  const include = (i: number) => i % 7 !== 0;
  const top = Array.from(topK(n, score, include, 300, ids));
  const sorted = Array.from({ length: n }, (_, i) => i).filter(include)
    .sort((a, b) => score[b] - score[a] || ids[a] - ids[b]).slice(0, 300);
  assert.deepEqual(top, sorted);
  assert.equal(topK(n, score, () => false, 10, ids).length, 0);
  assert.equal(listInstant(Date.parse("2026-03-01T12:34:56Z")), Date.parse("2026-03-01T12:00:00Z"));
});

Deno.test("lists skip adult movies and count what they could list", () => {
  const cat = createCatalog({ size: 3000, seed: 2, anchor: NOW });
  const adults = cat.adult.reduce((n, a) => n + a, 0);
  assert.ok(adults > 0);
  const p = cat.popular(NOW, 1);
  assert.equal(p.total_results, cat.size - adults);
  const listed = new Set<number>();
  for (let page = 1; page <= p.total_pages; page++) {
    for (const m of cat.popular(NOW, page).results) {
      assert.equal(m.adult, false);
      listed.add(m.id);
    }
  }
  assert.equal(listed.size, cat.size - adults, "every non-adult movie on exactly one page");
  const up = cat.upcoming(NOW, 1);
  assert.ok(up.total_results > 0);
  for (const m of up.results) {
    assert.ok(m.release_date >= up.dates!.minimum && m.release_date <= up.dates!.maximum);
  }
});
