import assert from "node:assert/strict";
import {
  appendToResponse,
  describeZodError,
  MAX_APPEND_PARTS,
  MOVIE_APPEND_PARTS,
  tmdbChangesPageSchema,
  tmdbConfigurationSchema,
  tmdbErrorBodySchema,
  tmdbMovieDetailsSchema,
  tmdbMoviePageSchema,
} from "./tmdb_schemas.ts";
import {
  changesPageFixture,
  configurationFixture,
  movieDetailsFixture,
  moviePageFixture,
} from "./testing/tmdb_fixtures.ts";

Deno.test("MOVIE_APPEND_PARTS is the five parts, within TMDB's limit of 20", () => {
  assert.deepEqual(
    [...MOVIE_APPEND_PARTS],
    ["credits", "videos", "release_dates", "external_ids", "keywords"],
  );
  assert.equal(
    appendToResponse(MOVIE_APPEND_PARTS),
    "credits,videos,release_dates,external_ids,keywords",
  );
});

Deno.test("appendToResponse() refuses more than 20 parts, duplicates and odd names", () => {
  const many = Array.from({ length: MAX_APPEND_PARTS + 1 }, (_, i) => `part_${"x".repeat(i)}`);
  assert.throws(() => appendToResponse(many), /at most 20 parts: current value has 21/);
  assert.equal(appendToResponse(many.slice(0, 20)).split(",").length, 20);
  assert.throws(() => appendToResponse(["credits", "credits"]), /"credits" twice/);
  assert.throws(() => appendToResponse(["credits&api_key=x"]), /must match/);
});

Deno.test("movie details parse and keep fields the schema does not name", () => {
  const body = movieDetailsFixture();
  body.some_future_field = { nested: true };
  (body.credits as { cast: Record<string, unknown>[] }).cast[0].new_cast_field = 1;
  const movie = tmdbMovieDetailsSchema.parse(body);
  assert.equal(movie.id, 550);
  assert.equal(movie.credits.cast[0].name, "Edward Norton");
  assert.equal(movie.credits.crew[0].job, "Director");
  assert.equal(movie.videos.results[0].key, "O1nDozs-LxI");
  assert.equal(movie.release_dates.results[0].release_dates[0].certification, "R");
  assert.equal(movie.external_ids.wikidata_id, "Q190050");
  assert.deepEqual(movie.keywords.keywords[0], { id: 825, name: "support group" });
  assert.deepEqual(movie.some_future_field, { nested: true });
  assert.equal(movie.credits.cast[0].new_cast_field, 1);
  // The stored payload is the response as sent.
  assert.deepEqual(movie, body);
});

Deno.test("movie details accept null and empty values where TMDB sends them", () => {
  const body = movieDetailsFixture();
  Object.assign(body, {
    poster_path: null,
    backdrop_path: null,
    imdb_id: null,
    runtime: null,
    homepage: null,
    tagline: null,
    release_date: "",
    belongs_to_collection: { id: 10, name: "Collection", poster_path: null, backdrop_path: null },
  });
  const movie = tmdbMovieDetailsSchema.parse(body);
  assert.equal(movie.poster_path, null);
  assert.equal(movie.release_date, "");
  assert.equal(movie.belongs_to_collection?.name, "Collection");
  assert.equal(tmdbMovieDetailsSchema.parse({ ...body, homepage: "" }).homepage, "");
});

Deno.test("movie details reject a missing appended part and a wrong type, naming the path", () => {
  const missing = movieDetailsFixture();
  delete missing.keywords;
  const r1 = tmdbMovieDetailsSchema.safeParse(missing);
  assert.equal(r1.success, false);
  assert.match(describeZodError(r1.error!), /^keywords: Required/);

  const wrong = movieDetailsFixture();
  (wrong.credits as { cast: Record<string, unknown>[] }).cast[1].name = null;
  wrong.title = 42;
  const r2 = tmdbMovieDetailsSchema.safeParse(wrong);
  assert.equal(r2.success, false);
  const text = describeZodError(r2.error!);
  assert.match(text, /title: Expected string, received number/);
  assert.match(text, /credits\.cast\[1\]\.name: Expected string, received null/);
});

Deno.test("describeZodError() lists at most `max` issues and counts the rest", () => {
  const r = tmdbMoviePageSchema.safeParse({ results: [{}, {}] });
  assert.equal(r.success, false);
  const text = describeZodError(r.error!, 2);
  assert.equal(text.split("; ").length, 3);
  assert.match(text, /and \d+ more issue\(s\)$/);
  assert.match(describeZodError(tmdbMoviePageSchema.safeParse(null).error!), /^\(root\): /);
});

Deno.test("list pages parse with and without `dates`, and with a missing release_date", () => {
  const nowPlaying = tmdbMoviePageSchema.parse(moviePageFixture(2));
  assert.equal(nowPlaying.page, 2);
  assert.equal(nowPlaying.dates?.minimum, "2026-09-23");
  assert.equal(nowPlaying.results[1].release_date, "");
  const popular = moviePageFixture();
  delete popular.dates;
  const items = popular.results as Record<string, unknown>[];
  delete items[0].release_date;
  items[1].media_type = "movie";
  const parsed = tmdbMoviePageSchema.parse(popular);
  assert.equal(parsed.dates, undefined);
  assert.equal(parsed.results[0].release_date, undefined);
  assert.equal(parsed.results[1].media_type, "movie");
});

Deno.test("changes pages parse adult as boolean or null (missing → null)", () => {
  const page = tmdbChangesPageSchema.parse(changesPageFixture());
  assert.deepEqual(page.results.map((r) => [r.id, r.adult]), [
    [550, false],
    [1190012, null],
    [1190013, null],
  ]);
  assert.equal(
    tmdbChangesPageSchema.safeParse({ ...changesPageFixture(), results: [{ id: "550" }] }).success,
    false,
  );
});

Deno.test("configuration and TMDB error bodies parse", () => {
  const config = tmdbConfigurationSchema.parse(configurationFixture());
  assert.equal(config.images.secure_base_url, "https://image.tmdb.org/t/p/");
  const err = tmdbErrorBodySchema.parse({
    success: false,
    status_code: 34,
    status_message: "The resource you requested could not be found.",
  });
  assert.equal(err.status_code, 34);
  assert.equal(
    tmdbErrorBodySchema.parse({ status_code: 25, status_message: "x" }).success,
    undefined,
  );
  assert.equal(tmdbErrorBodySchema.safeParse({ status_message: "x" }).success, false);
});
