import assert from "node:assert/strict";
import {
  appendToResponse,
  CHANGES_PAGE_RULES,
  MOVIE_APPEND_PARTS,
  MOVIE_PAGE_RULES,
  readIdPage,
  tmdbErrorBodySchema,
} from "./schemas.ts";
import { MAX_APPEND_PARTS } from "./limits.ts";
import { changesPageFixture, moviePageFixture } from "../testing/tmdb_fixtures.ts";

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

Deno.test("list pages: ids in order, paging, and no drift for a documented page", () => {
  const page = readIdPage(moviePageFixture(2), MOVIE_PAGE_RULES);
  assert.equal(page.page, 2);
  assert.deepEqual(page.ids, (moviePageFixture(2).results as { id: number }[]).map((r) => r.id));
  assert.equal(page.total_pages, (moviePageFixture(2) as { total_pages: number }).total_pages);
  assert.deepEqual(page.drift, {});
});

Deno.test("list pages: an item with missing or ill-typed fields keeps its id; the fields are counted", () => {
  const body = moviePageFixture();
  const items = body.results as Record<string, unknown>[];
  delete items[0].adult;
  items[0].popularity = "7.2";
  items[1].title = null;
  items[1].brand_new = true;
  const page = readIdPage(body, MOVIE_PAGE_RULES);
  assert.deepEqual(page.ids, items.map((r) => r.id));
  assert.deepEqual(page.drift, {
    "results[].adult": { missing: 1 },
    "results[].popularity": { wrong_type: 1 },
    "results[].title": { null: 1 },
    "results[].brand_new": { unknown: 1 },
  });
});

Deno.test("list pages: an item without a usable id is dropped and counted, the page is kept", () => {
  const body = moviePageFixture();
  const items = body.results as Record<string, unknown>[];
  const ids = items.map((r) => r.id);
  delete items[0].id;
  items[1].id = "550";
  const template = (moviePageFixture().results as Record<string, unknown>[])[0];
  const zero = { ...template, id: 0 };
  const huge = { ...template, id: 2_147_483_648 };
  items.push("not an item" as unknown as Record<string, unknown>, zero, huge);
  const page = readIdPage(body, MOVIE_PAGE_RULES);
  assert.deepEqual(page.ids, []);
  assert.equal(ids.length, 2);
  // Every dropped item is counted, in the kinds tmdb_payload_drift accepts.
  assert.deepEqual(page.drift, {
    "results[]": { wrong_type: 1 },
    "results[].id": { missing: 1, wrong_type: 3 },
  });
});

Deno.test("list pages: a broken envelope degrades to page 1 of 1 with no ids", () => {
  const page = readIdPage({ results: "nope", total_pages: null }, MOVIE_PAGE_RULES);
  assert.deepEqual(
    { page: page.page, ids: page.ids, total_pages: page.total_pages },
    { page: 1, ids: [], total_pages: 1 },
  );
  assert.deepEqual(page.drift, {
    page: { missing: 1 },
    results: { wrong_type: 1 },
    total_pages: { null: 1 },
    total_results: { missing: 1 },
  });
  assert.deepEqual(readIdPage(null, MOVIE_PAGE_RULES).ids, []);
});

Deno.test("changes pages: ids kept, adult may be a boolean or null (documented)", () => {
  const page = readIdPage(changesPageFixture(), CHANGES_PAGE_RULES);
  assert.deepEqual(page.ids, [550, 1190012, 1190013]);
  // The fixture's third item has no adult key: counted, the id kept.
  assert.deepEqual(page.drift, { "results[].adult": { missing: 1 } });
});

Deno.test("TMDB error bodies parse; every field is optional", () => {
  const err = tmdbErrorBodySchema.parse({
    success: false,
    status_code: 34,
    status_message: "The resource you requested could not be found.",
  });
  assert.equal(err.status_code, 34);
  assert.deepEqual(tmdbErrorBodySchema.parse({ status_message: "x" }).status_code, undefined);
  assert.equal(tmdbErrorBodySchema.parse({ status_code: "25" }).status_code, undefined);
});
