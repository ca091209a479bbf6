/**
 * discover-movies against the stack: the TMDB stand-in's daily export imported into the
 * catalog's queue (every id new the first time), a re-run of the same day changing nothing,
 * the fall-back to the day before when today's file is missing, a chain of runs continuing
 * each other through pg_net when a budget stops one, malformed lines counted without
 * failing the import, and a movie absent from two exports rechecked by refresh-worker:
 * kept through TMDB errors, marked missing on a 404, never deleted (files served by a second
 * host).
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import {
  connect,
  eventually,
  type Json,
  needsStack,
  popularIds,
  stack,
  testEndpoint,
} from "./_stack.ts";
import { callFunction, pauseCron, startExtraHost } from "./_reliability.ts";
import {
  exportUrl,
  previousDay,
  utcDay,
} from "../supabase/functions/discover-movies/export_files.ts";

/** The stand-in's files host: `{origin}/p/exports`. */
function exportsBase(): string {
  return `${new URL(stack!.tmdbUrl).origin}/p/exports`;
}

/** Sets the stand-in's export publication (hour 0: today's file is out; `withheld` days missing). */
async function publish(withheld: string[] = []): Promise<void> {
  const res = await fetch(`${new URL(stack!.tmdbUrl).origin}/__control/exports`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ publishHourUtc: 0, withheld }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** The ids of a day's export file, read directly (gunzip'd here). */
async function exportIds(day: string): Promise<number[]> {
  const res = await fetch(exportUrl(exportsBase(), "movie", day));
  assert.equal(res.status, 200, `export of ${day}`);
  const text = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).id as number);
}

/** Forgets every import, every known id and every queued new/recheck row. */
async function clean(sql: postgres.Sql): Promise<void> {
  await sql`delete from public.export_imports`;
  await sql`truncate public.tmdb_export_ids, public.export_import_lines, public.export_import_ids`;
  await sql`delete from public.refresh_queue where reason in ('new', 'recheck')`;
}

async function discover(body: Record<string, unknown>, baseUrl?: string) {
  const r = await callFunction("discover-movies", body, baseUrl ? { baseUrl } : {});
  return r as { status: number; json: Json; text: string };
}

/** The stand-in's simulated today (its clock may differ from ours). */
async function standinToday(): Promise<string> {
  const res = await fetch(`${new URL(stack!.tmdbUrl).origin}/__control/clock`);
  return utcDay(Date.parse((await res.json()).now));
}

Deno.test({
  name:
    "discover-movies imports today's export: every id recorded and queued as new once; a re-run of the day changes nothing",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const admin = connect("supabase_admin");
    const resume = await pauseCron(admin);
    try {
      await clean(sql);
      await publish();
      const today = utcDay(Date.now());
      assert.equal(await standinToday(), today, "the stand-in's day is ours");
      const ids = await exportIds(today);
      const r = await discover({});
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.outcome, "imported");
      assert.equal(r.json.fell_back, false);
      assert.equal(r.json.import.export_day, today);
      assert.equal(r.json.import.status, "done");
      assert.equal(r.json.import.lines_staged, ids.length);
      assert.equal(r.json.import.lines_parsed, ids.length);
      assert.equal(r.json.import.malformed_lines, 0);
      assert.equal(r.json.import.ids_seen, ids.length);
      assert.equal(r.json.import.new_ids, ids.length);
      const [{ known }] = await sql`select count(*)::int as known from public.tmdb_export_ids`;
      assert.equal(known, ids.length);
      const [{ inWorks }] = await sql`
        select count(*)::int as "inWorks" from public.works where tmdb_id = any(${ids})`;
      const [{ queued }] = await sql`
        select count(*)::int as queued from public.refresh_queue where reason = 'new'`;
      assert.equal(r.json.import.queued_new, queued);
      assert.ok(queued <= ids.length - inWorks, "ids already in works are not queued as new");
      assert.ok(queued > 0);
      const [{ staging }] = await sql`
        select (select count(*) from public.export_import_lines)
             + (select count(*) from public.export_import_ids) as staging`;
      assert.equal(Number(staging), 0, "staging is emptied");

      const again = await discover({});
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.outcome, "already_imported");
      assert.equal(again.json.segments, 0);
      assert.equal(again.json.import.id, r.json.import.id);
      const [{ after }] = await sql`
        select count(*)::int as after from public.refresh_queue where reason = 'new'`;
      assert.equal(after, queued, "nothing queued twice");
    } finally {
      await clean(sql).catch(() => {});
      await resume();
      await sql.end();
      await admin.end();
    }
  },
});

Deno.test({
  name: "discover-movies falls back to yesterday's export when today's is missing",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const admin = connect("supabase_admin");
    const resume = await pauseCron(admin);
    const today = utcDay(Date.now());
    try {
      await clean(sql);
      await publish([today]);
      const r = await discover({});
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.fell_back, true);
      assert.equal(r.json.import.export_day, previousDay(today));
      assert.equal(r.json.import.requested_day, today);
      assert.equal(r.json.import.lines_parsed, (await exportIds(previousDay(today))).length);

      // Both days missing: a 502 naming them, no import recorded.
      await clean(sql);
      await publish([today, previousDay(today)]);
      const none = await discover({});
      assert.equal(none.status, 502, none.text);
      assert.equal(none.json.error, "export_missing");
      assert.match(none.json.message, new RegExp(`${today} or ${previousDay(today)}`));
      const [{ n }] = await sql`select count(*)::int as n from public.export_imports`;
      assert.equal(n, 0);
    } finally {
      await publish().catch(() => {});
      await clean(sql).catch(() => {});
      await resume();
      await sql.end();
      await admin.end();
    }
  },
});

Deno.test({
  name:
    "discover-movies continues across invocations: a run stopped by its CPU budget queues the next through pg_net until the import is done",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const admin = connect("supabase_admin");
    const resume = await pauseCron(admin);
    try {
      await clean(sql);
      await publish();
      const today = utcDay(Date.now());
      const ids = await exportIds(today);
      const since = new Date();
      // 10 ms of CPU: every run stops after its first unit of work (a 16 KiB segment or a
      // 500-row slice) and hands over.
      const r = await discover({ cpu_budget_ms: 10, segment_kb: 16, step_rows: 500 });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.outcome, "in_progress");
      assert.equal(r.json.stopped_because, "cpu_budget");
      assert.equal(r.json.continuation.continued, true, JSON.stringify(r.json.continuation));
      const done = await eventually(
        async () => {
          const [row] = await sql`
          select * from public.export_imports where export_day = ${today} and status = 'done'`;
          return row ?? null;
        },
        "the chain to finish the import",
        120_000,
      );
      assert.equal(Number(done.lines_parsed), ids.length);
      assert.equal(Number(done.ids_seen), ids.length);
      assert.equal(Number(done.new_ids), ids.length);
      assert.ok(done.invocations > 3, `several runs: ${done.invocations}`);
      const runs = await sql`
        select i.trigger, i.body from public.edge_function_invocations i
         where i.function_name = 'discover-movies' and i.invoked_at >= ${since}`;
      assert.ok(runs.length >= 3, `continuations: ${runs.length}`);
      assert.ok(runs.every((x) => x.trigger === "continuation"));
      assert.ok(runs.every((x) => x.body.cpu_budget_ms === 10 && x.body.segment_kb === 16));
      const [{ known }] = await sql`select count(*)::int as known from public.tmdb_export_ids`;
      assert.equal(known, ids.length, "every id once, however many runs");
      // Wait for the last run's answer so no run is in flight for the next test.
      await eventually(
        async () => {
          const [{ open }] = await sql`
          select count(*)::int as open from public.edge_function_invocations i
           where i.function_name = 'discover-movies' and i.invoked_at >= ${since}
             and not exists (select from net._http_response h where h.id = i.request_id)`;
          return open === 0 ? true : null;
        },
        "the chain's last answer",
        60_000,
      );
    } finally {
      await clean(sql).catch(() => {});
      await resume();
      await sql.end();
      await admin.end();
    }
  },
});

/** Gzips `text`. */
async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return await new Response(stream).arrayBuffer();
}

Deno.test({
  name:
    "discover-movies counts malformed lines and skipped adult titles without failing the import",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const admin = connect("supabase_admin");
    const resume = await pauseCron(admin);
    const day = "2026-01-15";
    const lines = [
      '{"adult":false,"id":900001,"original_title":"A \\"quoted\\" title, with \\\\ and ;","popularity":12.5,"video":false}',
      "{not json",
      "",
      '{"adult":false,"id":"900002","popularity":1}',
      '{"adult":false,"id":-3,"popularity":1}',
      "[1,2,3]",
      '{"adult":true,"id":900003,"original_title":"x","popularity":3,"video":false}',
      '{"adult":false,"id":900004,"original_title":"y","popularity":"high","video":false}',
      '{"adult":false,"id":900001,"original_title":"dup","popularity":1,"video":false}',
    ];
    const file = await gzip(lines.join("\n") + "\n");
    const files = testEndpoint((req) =>
      new URL(req.url).pathname.endsWith(exportUrl("", "movie", day).slice(1))
        ? new Response(file, { headers: { "content-type": "application/gzip" } })
        : new Response("not found", { status: 404 })
    );
    const host = await startExtraHost("discover_malformed", {
      TMDB_EXPORTS_BASE_URL: `${files.url}/p/exports`,
    });
    try {
      await clean(sql);
      const r = await discover({ day }, host.functionsUrl);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.outcome, "imported");
      assert.equal(r.json.import.lines_staged, lines.length);
      assert.equal(r.json.import.lines_parsed, lines.length);
      assert.equal(
        r.json.import.malformed_lines,
        5,
        "bad JSON, empty, string id, negative id, array",
      );
      assert.equal(r.json.import.adult_skipped, 1);
      assert.equal(r.json.import.ids_seen, 2, "900001 (once) and 900004");
      const known = await sql`
        select tmdb_id::int as id, popularity from public.tmdb_export_ids order by tmdb_id`;
      assert.deepEqual(known.map((k) => [k.id, k.popularity]), [[900001, 12.5], [900004, 0]]);
      const queued = await sql`
        select tmdb_id from public.refresh_queue where reason = 'new' order by priority, tmdb_id`;
      assert.deepEqual(queued.map((q) => q.tmdb_id), [900001, 900004], "most popular first");
    } finally {
      await clean(sql).catch(() => {});
      await host.close();
      await files.close();
      await resume();
      await sql.end();
      await admin.end();
    }
  },
});

/** Sets the stand-in's fault knobs (`{}`: none). */
async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${new URL(stack!.tmdbUrl).origin}/__control/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  assert.equal(res.status, 200, await res.text());
}

/** A files host serving, for each day, an export of `ids` (popularity 1). */
function exportFiles(days: Record<string, number[]>) {
  const files = new Map<string, Promise<ArrayBuffer>>();
  for (const [day, ids] of Object.entries(days)) {
    const text = ids.map((id) =>
      JSON.stringify({ adult: false, id, original_title: `m${id}`, popularity: 1, video: false })
    ).join("\n") + "\n";
    files.set(exportUrl("", "movie", day).slice(1), gzip(text));
  }
  return testEndpoint(async (req) => {
    const name = new URL(req.url).pathname.split("/").at(-1)!;
    const file = files.get(name);
    return file
      ? new Response(await file, { headers: { "content-type": "application/gzip" } })
      : new Response("not found", { status: 404 });
  });
}

Deno.test({
  name:
    "a movie absent from two consecutive exports is rechecked once: kept through TMDB errors, marked missing on a 404, never deleted",
  ...needsStack(),
  async fn() {
    const sql = connect();
    const admin = connect("supabase_admin");
    const resume = await pauseCron(admin);
    // Two catalog movies (gone = TMDB deleted it, kept = still there) and one that stays listed.
    const [gone, kept, listed] = await popularIds(3, 30);
    const files = exportFiles({
      "2026-02-01": [gone, kept, listed],
      "2026-02-02": [listed],
      "2026-02-03": [listed],
    });
    const host = await startExtraHost("discover_recheck", {
      TMDB_EXPORTS_BASE_URL: `${files.url}/p/exports`,
    });
    const worker = () =>
      callFunction("refresh-worker", { batch_size: 5, budget_ms: 60_000 }) as Promise<
        { status: number; json: Json; text: string }
      >;
    // The works this test adds are removed at the end (a movie marked missing would surprise
    // later tests that pick popular ids).
    const existing = (await sql`
      select tmdb_id from public.works where tmdb_id = any(${[gone, kept, listed]})`)
      .map((x) => x.tmdb_id);
    try {
      await clean(sql);
      await setFaults({});
      const ingest = await callFunction("ingest-movie", { tmdb_ids: [gone, kept] });
      assert.equal(ingest.status, 200, ingest.text);
      // Nothing else in the queue while this test drives refresh-worker.
      await eventually(
        async () => {
          const [{ n }] = await sql`select public.refresh_worker_runs_in_flight() as n`;
          return n === 0 ? true : null;
        },
        "no refresh-worker run in flight",
        160_000,
      );
      await sql`delete from public.refresh_queue where status in ('pending', 'processing')`;

      for (const day of ["2026-02-01", "2026-02-02", "2026-02-03"]) {
        const r = await discover({ day }, host.functionsUrl);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.outcome, "imported", day);
      }
      const rechecks = await sql`
        select tmdb_id, status from public.refresh_queue where reason = 'recheck' order by tmdb_id`;
      assert.deepEqual(
        rechecks.map((x) => [x.tmdb_id, x.status]),
        [[gone, "pending"], [kept, "pending"]].sort((a, b) => Number(a[0]) - Number(b[0])),
        "both absent twice: one recheck each",
      );

      // TMDB failing: the rechecks fail and are retried; nothing is marked, nothing deleted.
      await setFaults({ errorRate5xx: 1 });
      const failing = await worker();
      assert.equal(failing.status, 200, failing.text);
      await setFaults({});
      const afterErrors = await sql`
        select w.tmdb_id, w.tmdb_missing_at, q.status, q.retry_count
          from public.works w join public.refresh_queue q on q.tmdb_id = w.tmdb_id
         where q.reason = 'recheck' order by w.tmdb_id`;
      assert.equal(afterErrors.length, 2, "both movies are still in works");
      for (const row of afterErrors) {
        assert.equal(row.tmdb_missing_at, null, `${row.tmdb_id} not marked on a 5xx`);
        assert.equal(row.status, "pending", `${row.tmdb_id} retried`);
        assert.ok(row.retry_count >= 1);
      }

      // TMDB answers: 404 for the deleted one, the movie for the other.
      await setFaults({ notFoundIds: [gone] });
      await sql`update public.refresh_queue set next_attempt_at = now() where reason = 'recheck'`;
      const answered = await worker();
      assert.equal(answered.status, 200, answered.text);
      const final = await sql`
        select w.tmdb_id, w.tmdb_missing_at is not null as missing, q.status, q.result
          from public.works w join public.refresh_queue q on q.tmdb_id = w.tmdb_id
         where q.reason = 'recheck' order by w.tmdb_id`;
      const byId = new Map(final.map((x) => [x.tmdb_id, x]));
      assert.deepEqual(
        [byId.get(gone)?.missing, byId.get(gone)?.status, byId.get(gone)?.result],
        [true, "completed", "not_found"],
        "a 404 marks the movie missing, its row is kept",
      );
      assert.deepEqual(
        [byId.get(kept)?.missing, byId.get(kept)?.status],
        [false, "completed"],
        "an answer keeps the movie",
      );
    } finally {
      await setFaults({}).catch(() => {});
      await clean(sql).catch(() => {});
      const added = [gone, kept, listed].filter((id) => !existing.includes(id));
      await sql`delete from public.works where tmdb_id = any(${added})`.catch(() => {});
      await host.close();
      await files.close();
      await resume();
      await sql.end();
      await admin.end();
    }
  },
});
