import assert from "node:assert/strict";
import {
  type CastCredit,
  createCatalog,
  DAY_MS,
  dayOf,
  HOUR_MS,
  isoDay,
  type MovieDetails,
  NO_DATE,
} from "./catalog.ts";

/** Parsed JSON of unknown shape (tests index into it freely). */
// deno-lint-ignore no-explicit-any
type Json = any;

const NOW = Date.parse("2026-03-01T12:00:00Z");
const ALL_PARTS = [
  "credits",
  "videos",
  "release_dates",
  "external_ids",
  "keywords",
  "images",
  "alternative_titles",
];

Deno.test("same seed and anchor → identical JSON; another seed → different", () => {
  const a = createCatalog({ size: 2000, seed: 7, anchor: NOW });
  const b = createCatalog({ size: 2000, seed: 7, anchor: NOW });
  const c = createCatalog({ size: 2000, seed: 8, anchor: NOW });
  assert.deepEqual(a.ids, b.ids);
  for (const idx of [0, 1, 17, 500, 1999]) {
    const id = a.ids[idx];
    assert.equal(
      JSON.stringify(a.details(id, NOW, ALL_PARTS)),
      JSON.stringify(b.details(id, NOW, ALL_PARTS)),
    );
  }
  assert.equal(JSON.stringify(a.popular(NOW, 3)), JSON.stringify(b.popular(NOW, 3)));
  assert.equal(
    JSON.stringify(a.changes(NOW - DAY_MS, NOW, NOW, 1)),
    JSON.stringify(b.changes(NOW - DAY_MS, NOW, NOW, 1)),
  );
  assert.notDeepEqual(a.ids, c.ids);
  assert.notEqual(JSON.stringify(a.popular(NOW, 1)), JSON.stringify(c.popular(NOW, 1)));
});

Deno.test("ids are sparse, sorted, unique, include 550; 5000 movies build fast", () => {
  const t0 = performance.now();
  const cat = createCatalog({ size: 5000, seed: 1, anchor: NOW });
  const built = performance.now() - t0;
  assert.ok(built < 500, `building 5000 movies took ${built} ms`);
  assert.equal(cat.ids.length, 5000);
  for (let i = 1; i < cat.ids.length; i++) assert.ok(cat.ids[i] > cat.ids[i - 1]);
  assert.ok(cat.ids[0] >= 2 && cat.ids[cat.ids.length - 1] <= 1_500_000);
  assert.ok(cat.ids[cat.ids.length - 1] > 1_000_000, "ids spread over the range");
  assert.ok(cat.has(550));
  assert.equal(cat.details(550, NOW)?.imdb_id, "tt0137523");
  assert.equal(cat.details(1, NOW), null);
  assert.equal(cat.indexOf(cat.ids[1234]), 1234);
});

Deno.test("details carry TMDB's fields, types and quirks across the catalog", () => {
  const cat = createCatalog({ size: 5000, seed: 1, anchor: NOW });
  const keys = [
    "adult",
    "backdrop_path",
    "belongs_to_collection",
    "budget",
    "genres",
    "homepage",
    "id",
    "imdb_id",
    "origin_country",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "production_companies",
    "production_countries",
    "release_date",
    "revenue",
    "runtime",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "video",
    "vote_average",
    "vote_count",
  ];
  const seen = {
    emptyDate: 0,
    future: 0,
    nullBackdrop: 0,
    nullPoster: 0,
    noGenres: 0,
    nullImdb: 0,
    runtime0: 0,
    runtimeNull: 0,
    collection: 0,
    homepage: 0,
    nonLatin: new Set<string>(),
    statuses: new Set<string>(),
    longCast: 0,
  };
  const today = isoDay(dayOf(NOW));
  for (let i = 0; i < cat.size; i += 3) {
    const d = cat.details(cat.ids[i], NOW, i % 15 === 0 ? ["credits"] : []) as MovieDetails;
    assert.deepEqual(Object.keys(d).filter((k) => k !== "credits"), keys);
    assert.equal(typeof d.popularity, "number");
    assert.ok(Number.isInteger(d.vote_count));
    assert.match(d.release_date, /^(\d{4}-\d{2}-\d{2})?$/);
    if (d.release_date === "") seen.emptyDate++;
    else if (d.release_date > today) seen.future++;
    if (d.backdrop_path === null) seen.nullBackdrop++;
    else assert.match(d.backdrop_path, /^\/[A-Za-z0-9]{27}\.jpg$/);
    if (d.poster_path === null) seen.nullPoster++;
    if (d.genres.length === 0) seen.noGenres++;
    if (d.imdb_id === null) seen.nullImdb++;
    else assert.match(d.imdb_id, /^tt\d{7,8}$/);
    if (d.runtime === 0) seen.runtime0++;
    if (d.runtime === null) seen.runtimeNull++;
    if (d.belongs_to_collection) seen.collection++;
    if (d.homepage !== "") seen.homepage++;
    seen.statuses.add(d.status);
    for (const [script, re] of Object.entries(SCRIPTS)) {
      if (re.test(d.original_title) || re.test(d.title)) seen.nonLatin.add(script);
    }
    const cast = (d.credits as { cast: CastCredit[] } | undefined)?.cast;
    if (cast && cast.length >= 100) seen.longCast++;
    for (const g of d.genres) assert.ok(TMDB_GENRE_IDS.has(g.id), `unknown genre ${g.id}`);
    if (d.status === "Released") assert.ok(d.release_date !== "" && d.release_date <= today);
  }
  for (const [k, v] of Object.entries(seen)) {
    if (typeof v === "number" && k !== "longCast") assert.ok(v > 0, `expected some ${k}`);
  }
  assert.deepEqual([...seen.nonLatin].sort(), Object.keys(SCRIPTS).sort());
  for (const s of ["Released", "Rumored", "Planned", "In Production", "Post Production"]) {
    assert.ok(seen.statuses.has(s), `status ${s} never served`);
  }
  // Long casts: look at every movie's credits until one with 100+ is found.
  let long = 0;
  for (let i = 0; i < cat.size && long === 0; i++) {
    const cast = (cat.details(cat.ids[i], NOW, ["credits"])!.credits as { cast: unknown[] }).cast;
    if (cast.length >= 100) long++;
  }
  assert.ok(long > 0, "some movie has a cast of 100+");
});

Deno.test("release dates follow the requested distribution relative to the anchor", () => {
  const cat = createCatalog({ size: 20_000, seed: 3, anchor: NOW });
  const a = dayOf(NOW);
  let upcoming = 0, month = 0, year = 0, none = 0, old1920 = 0;
  for (const r of cat.releaseDay) {
    if (r === NO_DATE) none++;
    else if (r > a) upcoming++;
    else if (r > a - 30) month++;
    else if (r > a - 365) year++;
    else if (r >= dayOf(Date.UTC(1920, 0, 1))) old1920++;
  }
  const n = cat.size;
  assert.ok(Math.abs(upcoming / n - 0.02) < 0.006, `upcoming ${upcoming / n}`);
  assert.ok(Math.abs(month / n - 0.05) < 0.01, `last 30 days ${month / n}`);
  assert.ok(Math.abs(year / n - 0.10) < 0.015, `last year ${year / n}`);
  assert.ok(none > 0 && old1920 + upcoming + month + year + none === n);
});

Deno.test("appended parts have TMDB's shapes; unknown parts are ignored", () => {
  const cat = createCatalog({ size: 3000, seed: 1, anchor: NOW });
  let checked = 0;
  for (let i = 0; i < cat.size && checked < 30; i++) {
    const d = cat.details(cat.ids[i], NOW, [...ALL_PARTS, "bogus", "translations"])!;
    assert.equal(d.bogus, undefined);
    const credits = d.credits as { cast: CastCredit[]; crew: Record<string, unknown>[] };
    if (credits.cast.length === 0 || credits.crew.length === 0) continue;
    checked++;
    assert.deepEqual(Object.keys(credits.cast[0]), [
      "adult",
      "gender",
      "id",
      "known_for_department",
      "name",
      "original_name",
      "popularity",
      "profile_path",
      "cast_id",
      "character",
      "credit_id",
      "order",
    ]);
    credits.cast.forEach((c, n) => assert.equal(c.order, n));
    assert.match(credits.cast[0].credit_id, /^[0-9a-f]{24}$/);
    assert.deepEqual(Object.keys(credits.crew[0]).slice(-3), ["credit_id", "department", "job"]);
    assert.equal(credits.crew[0].job, "Director");
    const ids = new Set([...credits.cast, ...credits.crew].map((c) => c.credit_id));
    assert.equal(ids.size, credits.cast.length + credits.crew.length, "credit ids unique");
    const videos = (d.videos as { results: Record<string, unknown>[] }).results;
    for (const v of videos) {
      assert.equal(v.site, "YouTube");
      assert.match(String(v.key), /^[A-Za-z0-9_-]{11}$/);
      assert.match(String(v.published_at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    }
    const rd = (d.release_dates as { results: { iso_3166_1: string; release_dates: Json[] }[] })
      .results;
    if (d.release_date === "") assert.equal(rd.length, 0);
    else {
      assert.ok(rd.length >= 1);
      for (const c of rd) {
        for (const e of c.release_dates) {
          assert.deepEqual(Object.keys(e), [
            "certification",
            "descriptors",
            "iso_639_1",
            "note",
            "release_date",
            "type",
          ]);
          assert.ok(e.type >= 1 && e.type <= 6);
        }
      }
    }
    assert.deepEqual(Object.keys(d.external_ids as object), [
      "imdb_id",
      "wikidata_id",
      "facebook_id",
      "instagram_id",
      "twitter_id",
    ]);
    assert.ok(Array.isArray((d.keywords as { keywords: unknown[] }).keywords));
  }
  assert.equal(checked, 30);
});

Deno.test("people are shared across movies: same id → same person", () => {
  const cat = createCatalog({ size: 3000, seed: 1, anchor: NOW });
  const byId = new Map<number, string>();
  let repeats = 0;
  for (let i = 0; i < cat.size; i += 2) {
    const credits = cat.details(cat.ids[i], NOW, ["credits"])!.credits as {
      cast: CastCredit[];
      crew: CastCredit[];
    };
    for (const p of [...credits.cast, ...credits.crew]) {
      const key = JSON.stringify([p.name, p.original_name, p.gender, p.profile_path]);
      const prev = byId.get(p.id);
      if (prev !== undefined) {
        repeats++;
        assert.equal(prev, key, `person ${p.id} differs between movies`);
      } else byId.set(p.id, key);
    }
  }
  assert.ok(repeats > 1000, `people recur across movies (${repeats} repeats)`);
});

Deno.test("details change exactly at change instants, which the changes feed lists", () => {
  const cat = createCatalog({ size: 3000, seed: 5, anchor: NOW });
  const from = NOW - 3 * DAY_MS;
  const changed = cat.changedIds(from, NOW, NOW);
  assert.ok(changed.length > 10, `some movies changed (${changed.length})`);
  let differing = 0;
  for (const id of changed.slice(0, 40)) {
    const instants = cat.changeInstants(id, from, NOW + 1);
    assert.ok(instants.length >= 1);
    const t = instants[0];
    const before = JSON.stringify(cat.details(id, t - 1, ALL_PARTS));
    const at = JSON.stringify(cat.details(id, t, ALL_PARTS));
    if (before !== at) differing++;
    // Between two change instants nothing changes.
    const next = instants[1] ?? NOW + 1;
    assert.equal(JSON.stringify(cat.details(id, next - 1, ALL_PARTS)), at);
  }
  assert.ok(differing >= 38, `popularity/votes move on each change (${differing}/40)`);
  // A movie that did not change in the window serves the same JSON throughout it.
  const unchanged = cat.ids.find((id) => !changed.includes(id))!;
  assert.equal(
    JSON.stringify(cat.details(unchanged, from, ALL_PARTS)),
    JSON.stringify(cat.details(unchanged, NOW, ALL_PARTS)),
  );
  // Nothing from the future is listed.
  assert.deepEqual(cat.changedIds(NOW + 1, NOW + DAY_MS, NOW), []);
  assert.ok(cat.changedIds(NOW + 1, NOW + DAY_MS, NOW + DAY_MS).length > 0);
});

Deno.test("upcoming movies get released: status, votes and a change on release day", () => {
  const cat = createCatalog({ size: 5000, seed: 2, anchor: NOW });
  const a = dayOf(NOW);
  const idx = cat.releaseDay.findIndex((r) => r !== NO_DATE && r > a + 2 && r < a + 60);
  assert.ok(idx >= 0);
  const id = cat.ids[idx];
  const r = cat.releaseDay[idx];
  const before = cat.details(id, NOW)!;
  assert.notEqual(before.status, "Released");
  assert.equal(before.vote_count, 0);
  assert.ok(before.release_date > isoDay(a));
  const releaseInstants = cat.changeInstants(id, r * DAY_MS, (r + 1) * DAY_MS);
  assert.equal(releaseInstants.length, 1);
  assert.equal(cat.details(id, releaseInstants[0] - 1)!.status, before.status);
  const after = cat.details(id, releaseInstants[0])!;
  assert.equal(after.status, "Released");
  assert.ok(after.vote_count > 0);
  assert.ok(cat.changedIds(r * DAY_MS, (r + 1) * DAY_MS, (r + 1) * DAY_MS).includes(id));
});

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

Deno.test("a 1,000,000-movie catalog builds and serves quickly enough", () => {
  const t0 = performance.now();
  const cat = createCatalog({ size: 1_000_000, seed: 1, anchor: NOW });
  const built = performance.now() - t0;
  assert.ok(built < 2000, `build took ${built} ms`);
  const t1 = performance.now();
  const d = cat.details(cat.ids[123_456], NOW, ALL_PARTS);
  assert.ok(d);
  assert.ok(performance.now() - t1 < 100);
  assert.ok(cat.ids[cat.size - 1] <= 1_500_000);
  const page = cat.changes(NOW - DAY_MS, NOW, NOW, 1);
  assert.equal(page.results.length, 100);
  assert.ok(page.total_results > 1000);
});

const SCRIPTS: Record<string, RegExp> = {
  japanese: /[\u3040-\u30ff\u4e00-\u9fff]/,
  korean: /[\uac00-\ud7af]/,
  cyrillic: /[\u0400-\u04ff]/,
  arabic: /[\u0600-\u06ff]/,
};

const TMDB_GENRE_IDS = new Set([
  28,
  12,
  16,
  35,
  80,
  99,
  18,
  10751,
  14,
  36,
  27,
  10402,
  9648,
  10749,
  878,
  10770,
  53,
  10752,
  37,
]);
