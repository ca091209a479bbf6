import assert from "node:assert/strict";
import postgres from "postgres";
import { needsStack, stack } from "../../tests/_stack.ts";
import {
  TYPICAL_CAST,
  TYPICAL_CREW,
  TYPICAL_GENRES,
  TYPICAL_RELEASE_DATES,
  TYPICAL_VIDEOS,
  typicalPayload,
} from "./typical_payload.ts";

type Payload = {
  id: number;
  credits: { cast: { credit_id: string; character: string }[]; crew: { credit_id: string }[] };
  videos: { results: { id: string }[] };
  genres: unknown[];
  release_dates: { results: { release_dates: unknown[] }[] };
};

Deno.test("typicalPayload() has 30 cast, 15 crew, 5 videos, 3 genres, 10 release dates", () => {
  const p = typicalPayload(30_000_001) as unknown as Payload;
  assert.equal(p.id, 30_000_001);
  assert.equal(p.credits.cast.length, TYPICAL_CAST);
  assert.equal(p.credits.crew.length, TYPICAL_CREW);
  assert.equal(p.videos.results.length, TYPICAL_VIDEOS);
  assert.equal(p.genres.length, TYPICAL_GENRES);
  assert.equal(
    p.release_dates.results.reduce((a, g) => a + g.release_dates.length, 0),
    TYPICAL_RELEASE_DATES,
  );
});

Deno.test({
  name: "typicalPayload() is a complete payload under the catalog's payload policy (no drift)",
  ...needsStack(),
  async fn() {
    const sql = postgres(stack!.dbUrl, { max: 1, onnotice: () => {} });
    try {
      const [{ drift }] = await sql`
        select public.tmdb_movie_drift(${
        sql.json(typicalPayload(42) as postgres.JSONValue)
      }::jsonb) as drift`;
      assert.deepEqual(drift, {});
    } finally {
      await sql.end();
    }
  },
});

Deno.test("typicalPayload() is deterministic and its credit and video ids are unique", () => {
  assert.deepEqual(typicalPayload(7), typicalPayload(7));
  const p = typicalPayload(7) as unknown as Payload;
  const ids = [
    ...p.credits.cast.map((c) => c.credit_id),
    ...p.credits.crew.map((c) => c.credit_id),
    ...p.videos.results.map((v) => v.id),
  ];
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^[0-9a-f]{24}$/);
  assert.notDeepEqual(typicalPayload(7), typicalPayload(8));
});

Deno.test("the changed variant differs only in popularity, votes and one character", () => {
  const base = typicalPayload(99) as Record<string, unknown>;
  const changed = typicalPayload(99, { variant: "changed" }) as Record<string, unknown>;
  const differing = Object.keys(base).filter((k) =>
    JSON.stringify(base[k]) !== JSON.stringify(changed[k])
  );
  assert.deepEqual(differing.sort(), ["credits", "popularity", "vote_average", "vote_count"]);
  const bc = (base as unknown as Payload).credits.cast;
  const cc = (changed as unknown as Payload).credits.cast;
  const castDiff = bc.map((c, i) => JSON.stringify(c) !== JSON.stringify(cc[i]));
  assert.deepEqual(castDiff.filter(Boolean).length, 1);
  assert.deepEqual(
    (base as unknown as Payload).credits.crew,
    (changed as unknown as Payload).credits.crew,
  );
});

Deno.test("typicalPayload() rejects an id TMDB could not have, showing it", () => {
  assert.throws(() => typicalPayload(0), /current value is 0/);
  assert.throws(() => typicalPayload(1.5), /current value is 1.5/);
});
