import assert from "node:assert/strict";
import type postgres from "postgres";
import { createMemoryCatalogStore, createPostgresCatalogStore } from "./catalog_store.ts";
import { type TmdbMovieDetails, tmdbMovieDetailsSchema } from "./tmdb_schemas.ts";
import { movieDetailsFixture } from "./testing/tmdb_fixtures.ts";

function movie(id: number, overrides: Record<string, unknown> = {}): TmdbMovieDetails {
  return tmdbMovieDetailsSchema.parse({ ...movieDetailsFixture(id), ...overrides });
}

/** A stand-in for postgres.js's `sql` tag: records each statement and answers `rows`. */
function fakeSql(answer: unknown) {
  const statements: { text: string; values: unknown[] }[] = [];
  const sql = Object.assign(
    (strings: TemplateStringsArray, ...values: unknown[]) => {
      statements.push({ text: strings.join("$"), values });
      return Promise.resolve([{ r: answer }]);
    },
    { json: (value: unknown) => ({ json: value }) },
  );
  return { sql: sql as unknown as postgres.Sql, statements };
}

Deno.test("createPostgresCatalogStore().ingestMovie() is one select of public.ingest_movie", async () => {
  const { sql, statements } = fakeSql({ tmdb_id: 550, work_id: 7, action: "inserted", extra: 1 });
  const store = createPostgresCatalogStore(sql);
  const payload = movie(550);
  const at = new Date(Date.UTC(2026, 0, 1));
  assert.deepEqual(await store.ingestMovie(payload, at), {
    tmdb_id: 550,
    work_id: 7,
    action: "inserted",
  });
  assert.equal(statements.length, 1);
  assert.match(statements[0].text, /select public\.ingest_movie\(/);
  assert.deepEqual(statements[0].values, [{ json: payload }, "2026-01-01T00:00:00.000Z"]);
});

Deno.test("createPostgresCatalogStore().markNotFound() is one select of public.mark_movie_not_found", async () => {
  const { sql, statements } = fakeSql({ tmdb_id: 9, work_id: null, action: "not_found" });
  const store = createPostgresCatalogStore(sql);
  assert.deepEqual(await store.markNotFound(9, new Date(0)), {
    tmdb_id: 9,
    work_id: null,
    action: "not_found",
  });
  assert.equal(statements.length, 1);
  assert.match(statements[0].text, /select public\.mark_movie_not_found\(/);
  assert.deepEqual(statements[0].values, [9, "1970-01-01T00:00:00.000Z"]);
});

Deno.test("createPostgresCatalogStore() rejects an unexpected SQL result, naming the function", async () => {
  const { sql } = fakeSql({ tmdb_id: 1, action: "created" });
  await assert.rejects(
    createPostgresCatalogStore(sql).ingestMovie(movie(1)),
    /public\.ingest_movie returned an unexpected value: .*action/,
  );
});

Deno.test("createMemoryCatalogStore() reports inserted, unchanged (same hash), updated and not_found", async () => {
  const store = createMemoryCatalogStore();
  assert.deepEqual(await store.ingestMovie(movie(1)), {
    tmdb_id: 1,
    work_id: 1,
    action: "inserted",
  });
  assert.deepEqual(await store.ingestMovie(movie(2)), {
    tmdb_id: 2,
    work_id: 2,
    action: "inserted",
  });
  // Same content with keys in another order is unchanged.
  const reordered = Object.fromEntries(Object.entries(movie(1)).reverse()) as TmdbMovieDetails;
  assert.equal((await store.ingestMovie(reordered)).action, "unchanged");
  assert.equal((await store.ingestMovie(movie(1, { popularity: 1 }))).action, "updated");
  assert.deepEqual(await store.markNotFound(1), { tmdb_id: 1, work_id: 1, action: "not_found" });
  assert.deepEqual(await store.markNotFound(3), { tmdb_id: 3, work_id: null, action: "not_found" });
  // A movie that comes back after a 404 is updated.
  assert.equal((await store.ingestMovie(movie(1, { popularity: 1 }))).action, "updated");
});

Deno.test("createMemoryCatalogStore({ failFor }) rejects for those ids only", async () => {
  const store = createMemoryCatalogStore({ failFor: [5] });
  await assert.rejects(store.ingestMovie(movie(5)), /simulated database failure for tmdb_id 5/);
  await assert.rejects(store.markNotFound(5), /simulated database failure/);
  assert.equal((await store.ingestMovie(movie(6))).action, "inserted");
  assert.equal(store.movies.has(5), false);
});
