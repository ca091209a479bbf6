import assert from "node:assert/strict";
import type postgres from "postgres";
import { answersParameters, createPostgresCatalogStore } from "./catalog.ts";

/** A stand-in for postgres.js's `sql`: records each statement and answers `value`. */
function fakeSql(value: unknown) {
  const statements: { text: string; values: unknown[] }[] = [];
  const sql = Object.assign(
    (strings: TemplateStringsArray, ...values: unknown[]) => {
      statements.push({ text: strings.join("$"), values });
      return Promise.resolve([{ r: value }]);
    },
    {
      unsafe: (text: string, values: unknown[]) => {
        statements.push({ text, values });
        return Promise.resolve([{ r: value }]);
      },
    },
  );
  Object.assign(sql, { json: (value: unknown) => ({ json: value }) });
  return { sql: sql as unknown as postgres.Sql, statements };
}

const RUN = { runId: "00000000-0000-4000-8000-00000000000a", functionName: "ingest-movie" };

Deno.test("answersParameters() numbers the bodies and passes each as its own text parameter", () => {
  const p = answersParameters([
    { tmdb_id: 1, status: 200, body: '{"id":1}' },
    { tmdb_id: 2, status: 404 },
    { tmdb_id: 3, status: 200, body: '{"id":3}' },
  ], 5);
  assert.deepEqual(p.responses, [
    { tmdb_id: 1, status: 200, body: 1 },
    { tmdb_id: 2, status: 404 },
    { tmdb_id: 3, status: 200, body: 2 },
  ]);
  assert.deepEqual(p.bodies, ['{"id":1}', '{"id":3}']);
  assert.equal(p.array, "array[$5::text,$6::text]");
  assert.equal(answersParameters([{ tmdb_id: 2, status: 404 }], 5).array, "array[]::text[]");
});

Deno.test("storeAnswers() is one select of public.ingest_tmdb_responses with the bodies as sent", async () => {
  const result = {
    items: [
      { tmdb_id: 1, outcome: "inserted", work_id: "7" },
      { tmdb_id: 2, outcome: "failed", work_id: null, kind: "invalid_response", error: "x" },
    ],
    drift: { "release_dates.results[].release_dates[].note": { missing: 2 } },
  };
  const { sql, statements } = fakeSql(result);
  const stored = await createPostgresCatalogStore(sql).storeAnswers([
    { tmdb_id: 1, status: 200, body: '{"id": 1}' },
    { tmdb_id: 2, status: 200, body: "not json" },
  ], { ...RUN, refreshedAt: new Date(Date.UTC(2026, 0, 1)) });
  assert.deepEqual(stored.items, [
    { tmdb_id: 1, outcome: "inserted", work_id: 7 },
    { tmdb_id: 2, outcome: "failed", work_id: null, kind: "invalid_response", error: "x" },
  ]);
  assert.deepEqual(stored.drift, result.drift);
  assert.equal(statements.length, 1);
  assert.match(
    statements[0].text,
    /^select public\.ingest_tmdb_responses\(\$1::uuid, \$2::text, \$3::jsonb, array\[\$5::text,\$6::text\], \$4::timestamptz\)/,
  );
  assert.deepEqual(statements[0].values, [
    RUN.runId,
    "ingest-movie",
    [{ tmdb_id: 1, status: 200, body: 1 }, { tmdb_id: 2, status: 200, body: 2 }],
    "2026-01-01T00:00:00.000Z",
    '{"id": 1}',
    "not json",
  ]);
});

Deno.test("storeAnswers() of nothing makes no round trip", async () => {
  const { sql, statements } = fakeSql(null);
  assert.deepEqual(await createPostgresCatalogStore(sql).storeAnswers([], RUN), {
    items: [],
    drift: {},
  });
  assert.equal(statements.length, 0);
});

Deno.test("storeAnswers() rejects an unexpected SQL result, naming the function", async () => {
  const { sql } = fakeSql({ items: [{ tmdb_id: 1, outcome: "created" }], drift: {} });
  await assert.rejects(
    createPostgresCatalogStore(sql).storeAnswers([{ tmdb_id: 1, status: 404 }], RUN),
    /public\.ingest_tmdb_responses returned an unexpected value: .*outcome/,
  );
});

Deno.test("recordDrift() writes nothing for no drift, else one record_payload_drift call", async () => {
  const { sql, statements } = fakeSql(1);
  const store = createPostgresCatalogStore(sql);
  await store.recordDrift(RUN, {});
  assert.equal(statements.length, 0);
  await store.recordDrift(RUN, { "list:results[].title": { null: 2 } });
  assert.equal(statements.length, 1);
  assert.match(statements[0].text, /select public\.record_payload_drift\(/);
  assert.deepEqual(statements[0].values, [
    RUN.runId,
    "ingest-movie",
    { json: { "list:results[].title": { null: 2 } } },
  ]);
});
