/**
 * Two refresh-worker chains storing batches whose casts name the same people that are NEW to
 * the catalog (or become known while a batch is stored) never deadlock: every
 * `refresh_worker_step` answers, and every movie is stored (migration 032).
 *
 * Before 032, a batch locked only the people that already existed, by id, before its
 * movies; a person inserted by another transaction in the meantime was locked later, out of
 * order. The first test builds that interleaving step by step with two blocking sessions, so
 * it does not depend on timing: worker B waits in the lock phase for a person A holds while A
 * waits for a person B holds; B is the deadlock victim, outside any per-movie retry, and its
 * call raised (refresh-worker answered 500). The second test stores crossing batches of new
 * movies with overlapping new casts from two workers, round after round.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { connect, eventually, needsStack } from "./_stack.ts";

const MOVIES = 1_980_000_000;
const PEOPLE = 1_980_500_000;
const GENRE = 1_980_000;

/** A complete movie whose cast is `people` (ids), round `round` (changes its runtime). */
function movie(id: number, people: number[], round = 0) {
  return {
    adult: false,
    backdrop_path: null,
    belongs_to_collection: null,
    budget: 0,
    genres: [{ id: GENRE + (id % 3), name: `Genre ${id % 3}` }],
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
    credits: {
      cast: people.map((person, i) => ({
        adult: false,
        gender: 1,
        id: person,
        known_for_department: "Acting",
        name: `Person ${person}`,
        original_name: `Person ${person}`,
        popularity: 1,
        profile_path: null,
        cast_id: i,
        character: `Role ${i}`,
        credit_id: `c${id}-${person}`,
        order: i,
      })),
      crew: [],
    },
    videos: { results: [] },
    release_dates: { results: [] },
    external_ids: {},
    keywords: { keywords: [] },
  };
}

interface Claimed {
  queue_id: number;
  tmdb_id: number;
  attempt: number;
}

interface Step {
  stored: { tmdb_id: number; outcome: string; error?: string }[];
  finished: { completed: number; retried: number; lost_lease: number };
  claimed: Claimed[];
}

/** Puts the movies in works (no credits) and in refresh_queue at priority 0. */
async function queueMovies(sql: postgres.Sql, ids: number[]): Promise<void> {
  const bodies = ids.map((id) => JSON.stringify(movie(id, [])));
  const responses = ids.map((id, i) => ({ tmdb_id: id, status: 200, body: i + 1 }));
  await sql`select public.ingest_tmdb_responses(null, 'deadlock-test',
              ${sql.json(responses)}::jsonb, ${bodies}::text[])`;
  await sql`select public.enqueue_refresh(
              array(select id from public.works where tmdb_id = any(${ids}::int[])), 'manual', 0)`;
}

/** Claims `n` items for `worker` (one refresh_worker_step with no answers). */
async function claim(sql: postgres.Sql, worker: string, n: number): Promise<Claimed[]> {
  const [{ r }] = await sql<{ r: Step }[]>`
    select public.refresh_worker_step(${worker}, null, '[]'::jsonb, array[]::text[], ${n}, 120) as r`;
  return r.claimed;
}

/** Stores `casts` (tmdb_id → people) for the claimed items, claims nothing more. */
function store(
  sql: postgres.Sql,
  worker: string,
  items: Claimed[],
  casts: Map<number, number[]>,
  round = 0,
): Promise<{ r: Step }[]> {
  // execute(): sent at once (a postgres.js query otherwise waits until awaited).
  const bodies = items.map((it) =>
    JSON.stringify(movie(it.tmdb_id, casts.get(it.tmdb_id)!, round))
  );
  const answered = items.map((it, i) => ({ ...it, status: 200, body: i + 1 }));
  return sql<{ r: Step }[]>`
    select public.refresh_worker_step(${worker}, null, ${sql.json(answered)}::jsonb,
             ${bodies}::text[], 0, 120) as r`.execute();
}

/** Resolves once the backend `pid` waits for a lock. */
function waitingForLock(sql: postgres.Sql, pid: number, what: string): Promise<true> {
  return eventually(
    async () => {
      const [{ waiting }] = await sql<{ waiting: boolean }[]>`
      select exists (select from pg_locks where pid = ${pid} and not granted) as waiting`;
      return waiting || null;
    },
    what,
    10_000,
  );
}

async function cleanup(sql: postgres.Sql): Promise<void> {
  await sql`delete from public.refresh_queue where work_id in
              (select id from public.works where tmdb_id between ${MOVIES} and ${MOVIES + 999})`;
  await sql`delete from public.works where tmdb_id between ${MOVIES} and ${MOVIES + 999}`;
  await sql`delete from public.people where id between ${PEOPLE} and ${PEOPLE + 99_999}`;
  await sql`delete from public.genres where id between ${GENRE} and ${GENRE + 9}`;
}

Deno.test({
  name: "a person inserted while a batch is stored cannot deadlock two workers' steps",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const workers = connect();
    const blockers = connect();
    const [n0, e1, e2] = [PEOPLE + 1, PEOPLE + 2, PEOPLE + 3];
    const [a1, a2, b1] = [MOVIES + 1, MOVIES + 2, MOVIES + 3];
    const reserved: postgres.ReservedSql[] = [];
    try {
      await cleanup(sql);
      // e2 is known to the catalog; n0 and e1 are new.
      await sql`insert into public.people (id, name) values (${e2}, 'Person e2')`;
      await queueMovies(sql, [a1, a2]);
      const itemsA = await claim(sql, "worker-a", 2);
      await queueMovies(sql, [b1]);
      const itemsB = await claim(sql, "worker-b", 1);
      assert.deepEqual(itemsA.map((i) => i.tmdb_id).sort(), [a1, a2]);
      assert.deepEqual(itemsB.map((i) => i.tmdb_id), [b1]);

      // Four sessions of their own (a pool holds four connections; `sql` keeps one).
      const [workerA, workerB, blockerC, blockerD] = await Promise.all(
        [workers, workers, blockers, blockers].map((pool) => pool.reserve()),
      );
      reserved.push(workerA, workerB, blockerC, blockerD);
      const pid = async (s: postgres.ReservedSql) =>
        (await s<{ pid: number }[]>`select pg_backend_pid() as pid`)[0].pid;
      const [pidA, pidB] = [await pid(workerA), await pid(workerB)];

      // C inserts e1 and D inserts n0, neither committed yet.
      await blockerC`begin`;
      await blockerC`insert into public.people (id, name) values (${e1}, 'Person e1')`;
      await blockerD`begin`;
      await blockerD`insert into public.people (id, name) values (${n0}, 'Person n0')`;

      // A's batch: a1 names n0, a2 names e1 and e2. A blocks (on n0 or e1).
      const casts = new Map([[a1, [n0]], [a2, [e1, e2]], [b1, [e1, e2]]]);
      const stepA = store(workerA, "worker-a", itemsA, casts);
      await waitingForLock(sql, pidA, "worker A to wait for a blocker");
      // e1 becomes known; then B's batch (b1 names e1 and e2) starts and blocks on A or not.
      await blockerC`commit`;
      const stepB = store(workerB, "worker-b", itemsB, casts);
      await new Promise((r) => setTimeout(r, 300));
      // Let A go on: n0 is free again.
      await blockerD`rollback`;

      const results = await Promise.allSettled([stepA, stepB]);
      const errors = results.flatMap((r, i) =>
        r.status === "rejected" ? [`worker ${"AB"[i]}: ${(r.reason as Error).message}`] : []
      );
      assert.deepEqual(errors, []);
      const stored = results.flatMap((r) => r.status === "fulfilled" ? r.value[0].r.stored : []);
      assert.deepEqual(
        stored.map((s) => `${s.tmdb_id} ${s.outcome}`).sort(),
        [`${a1} updated`, `${a2} updated`, `${b1} updated`],
      );
      const credits = await sql<{ tmdb_id: number; person_id: number }[]>`
        select w.tmdb_id, c.person_id from public.work_cast c join public.works w on w.id = c.work_id
         where w.tmdb_id between ${MOVIES} and ${MOVIES + 999} order by 1, 2`;
      assert.deepEqual(credits.map((c) => [c.tmdb_id, c.person_id]), [
        [a1, n0],
        [a2, e1],
        [a2, e2],
        [b1, e1],
        [b1, e2],
      ]);
      const [{ done }] = await sql<{ done: number }[]>`
        select count(*)::int as done from public.refresh_queue q join public.works w on w.id = q.work_id
         where w.tmdb_id between ${MOVIES} and ${MOVIES + 999} and q.status = 'completed'`;
      assert.equal(done, 3);
      void pidB;
    } finally {
      for (const r of reserved) {
        await r`rollback`.catch(() => {});
        r.release();
      }
      await cleanup(sql).catch(() => {});
      await Promise.all([sql.end(), workers.end(), blockers.end()]);
    }
  },
});

Deno.test({
  name: "two workers storing new movies with overlapping new casts, crossing, all get stored",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const a = connect();
    const b = connect();
    const BATCH = 8;
    const ROUNDS = 4;
    try {
      await cleanup(sql);
      const failures: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Each round: 2 × BATCH movies new to works, whose casts are 12 people new to the
        // catalog, drawn so that A's early movies share people with B's late ones.
        const base = MOVIES + 100 + round * 2 * BATCH;
        const idsA = Array.from({ length: BATCH }, (_, i) => base + i);
        const idsB = Array.from({ length: BATCH }, (_, i) => base + BATCH + i);
        const people = (k: number) =>
          Array.from({ length: 6 }, (_, j) => PEOPLE + 1000 + round * 100 + ((k + j * 3) % 24));
        const casts = new Map<number, number[]>();
        idsA.forEach((id, i) => casts.set(id, people(i)));
        idsB.forEach((id, i) => casts.set(id, people(BATCH - 1 - i).reverse()));
        await queueMovies(sql, idsA);
        const itemsA = await claim(sql, "worker-a", BATCH);
        await queueMovies(sql, idsB);
        const itemsB = await claim(sql, "worker-b", BATCH);
        const results = await Promise.allSettled([
          store(a, "worker-a", itemsA, casts, round + 1),
          store(b, "worker-b", itemsB, casts, round + 1),
        ]);
        for (const [i, r] of results.entries()) {
          if (r.status === "rejected") {
            failures.push(`round ${round}, worker ${"AB"[i]}: ${(r.reason as Error).message}`);
            continue;
          }
          for (const s of r.value[0].r.stored) {
            if (s.outcome !== "updated") {
              failures.push(`round ${round}, movie ${s.tmdb_id}: ${s.outcome} ${s.error ?? ""}`);
            }
          }
        }
      }
      assert.deepEqual(failures, []);
      const [{ n }] = await sql<{ n: number }[]>`
        select count(*)::int as n from public.work_cast c join public.works w on w.id = c.work_id
         where w.tmdb_id between ${MOVIES + 100} and ${MOVIES + 999}`;
      assert.equal(n, ROUNDS * 2 * BATCH * 6);
    } finally {
      await cleanup(sql).catch(() => {});
      await Promise.all([sql.end(), a.end(), b.end()]);
    }
  },
});
