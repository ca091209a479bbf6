/**
 * Concurrent ingests that share movies and people never deadlock: every call of
 * `ingest_tmdb_responses` takes its locks in one global order (movies by tmdb_id; the
 * people and genres of the whole batch by id, before any movie). Two connections store
 * batches whose movies and casts cross in opposite orders, round after round, each round
 * changing every movie so nothing takes the unchanged fast path: no item may fail.
 */
import assert from "node:assert/strict";
import { connect, needsStack } from "./_stack.ts";

const MOVIES = 1_970_000_000;
const PEOPLE = 1_970_500_000;
const GROUPS = 6;
const PER_GROUP = 8;

/** A complete movie whose cast is the people of `groups`. */
function movie(id: number, groups: number[], round: number) {
  const cast = groups.flatMap((g) =>
    Array.from({ length: PER_GROUP }, (_, i) => {
      const person = PEOPLE + g * 100 + i;
      return {
        adult: false,
        gender: 1,
        id: person,
        known_for_department: "Acting",
        name: `Person ${person}`,
        original_name: `Person ${person}`,
        popularity: round + 1,
        profile_path: null,
        cast_id: i,
        character: `Role ${i}`,
        credit_id: `c${id}-${person}`,
        order: i,
      };
    })
  );
  return {
    adult: false,
    backdrop_path: null,
    belongs_to_collection: null,
    budget: 0,
    genres: groups.map((g) => ({ id: 1_970_000 + g, name: `Genre ${g}` })),
    homepage: "",
    id,
    imdb_id: null,
    origin_country: [],
    original_language: "en",
    original_title: `Movie ${id}`,
    overview: "",
    popularity: 1,
    poster_path: null,
    production_companies: [],
    production_countries: [],
    release_date: "2001-01-01",
    revenue: 0,
    runtime: 90 + round,
    spoken_languages: [],
    status: "Released",
    tagline: null,
    title: `Movie ${id}`,
    video: false,
    vote_average: 5,
    vote_count: 1,
    credits: { cast, crew: [] },
    videos: { results: [] },
    release_dates: { results: [] },
    external_ids: {},
    keywords: { keywords: [] },
  };
}

Deno.test({
  name: "two concurrent ingests whose movies and casts cross in opposite orders never deadlock",
  ...needsStack(),
  async fn() {
    const a = connect();
    const b = connect();
    const cleanup = async () => {
      await a`delete from public.works where tmdb_id between ${MOVIES} and ${MOVIES + 99}`;
      await a`delete from public.people where id between ${PEOPLE} and ${PEOPLE + 99_999}`;
      await a`delete from public.genres where id between 1970000 and 1970099`;
    };
    try {
      await cleanup();
      const groups = Array.from({ length: GROUPS }, (_, g) => g);
      const store = (
        sql: typeof a,
        ids: number[],
        groupsOf: (i: number) => number[],
        round: number,
      ) => {
        const bodies = ids.map((id, i) => JSON.stringify(movie(id, groupsOf(i), round)));
        const responses = ids.map((id, i) => ({ tmdb_id: id, status: 200, body: i + 1 }));
        return sql<{ r: { items: { tmdb_id: number; outcome: string; error?: string }[] } }[]>`
          select public.ingest_tmdb_responses(null, 'lock-order-test',
                   ${sql.json(responses)}::jsonb, ${bodies}::text[]) as r`;
      };
      const failures: string[] = [];
      for (let round = 0; round < 6; round++) {
        // Batch A: movies 0..5 with groups g0..g5, in descending movie order; batch B: movies
        // 10..15 with the groups reversed, in ascending order. Both touch every group.
        const idsA = groups.map((g) => MOVIES + g).reverse();
        const idsB = groups.map((g) => MOVIES + 10 + g);
        const [ra, rb] = await Promise.all([
          store(a, idsA, (i) => [GROUPS - 1 - i, (GROUPS - i) % GROUPS], round),
          store(b, idsB, (i) => [i, (i + 1) % GROUPS], round),
        ]);
        for (const item of [...ra[0].r.items, ...rb[0].r.items]) {
          if (!["inserted", "updated"].includes(item.outcome)) {
            failures.push(
              `round ${round}, movie ${item.tmdb_id}: ${item.outcome} ${item.error ?? ""}`,
            );
          }
        }
      }
      assert.deepEqual(failures, []);
      const [{ n }] = await a<{ n: number }[]>`
        select count(*)::int as n from public.work_cast
         where work_id in (select id from public.works where tmdb_id between ${MOVIES} and ${
        MOVIES + 99
      })`;
      assert.equal(n, 12 * 2 * PER_GROUP);
    } finally {
      await cleanup().catch(() => {});
      await a.end();
      await b.end();
    }
  },
});
