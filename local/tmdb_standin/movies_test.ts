import assert from "node:assert/strict";
import type { CastCredit, MovieDetails } from "./movies.ts";
import { createCatalog } from "./catalog.ts";
import { dayOf, isoDay } from "./time.ts";

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
