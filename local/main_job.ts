/**
 * The main job `npm start` runs once: the design summary's manual test, exactly as a user
 * would type it in the SQL editor —
 *
 *   select call_scheduled_ingest('mixed_daily', 30, 'manual');
 *   select call_daily_refresh();
 *   select call_refresh_worker();
 *
 * — each going through pg_net, the functions host and TMDB (the local stand-in unless a
 * token is configured). It waits for each response in the per-run view
 * `edge_function_runs` and prints a summary: movies ingested, queue by status, TMDB calls,
 * durations and any errors.
 */
import postgres from "postgres";
import { step } from "./lib/stack.ts";
import type { StackConfig, StackInfo } from "./lib/stack_config.ts";

/** A row of `edge_function_runs`, as the main job reads it. */
export interface RunRow {
  request_id: string;
  function_name: string;
  state: string;
  status_code: number | null;
  timed_out: boolean | null;
  error_msg: string | null;
  response: Record<string, unknown> | null;
  response_text: string | null;
}

/** Calls one `call_*` function and waits for its response row; returns it. */
async function callAndWait(
  sql: postgres.Sql,
  label: string,
  call: () => Promise<postgres.RowList<postgres.Row[]>>,
  timeoutMs = 180_000,
): Promise<RunRow> {
  const t0 = Date.now();
  const [row] = await call();
  const requestId = Object.values(row)[0];
  if (requestId === null) throw new Error(`${label} returned null (skipped)`);
  step(`${label} → pg_net request ${requestId}; waiting for the response…`);
  let lastNote = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const [run] = await sql<RunRow[]>`
      select request_id::text, function_name, state, status_code, timed_out, error_msg, response, response_text
      from public.edge_function_runs where request_id = ${requestId}`;
    if (run && run.state !== "queued") {
      step(
        `  ${run.function_name}: HTTP ${run.status_code ?? "-"} ${run.state} in ${
          ((Date.now() - t0) / 1000).toFixed(1)
        } s`,
      );
      return run;
    }
    if (Date.now() - lastNote > 10_000) {
      step(`  still waiting (${Math.round((Date.now() - t0) / 1000)} s)…`);
      lastNote = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${label}: no response within ${timeoutMs / 1000} s (see npm run status and .stack logs)`,
  );
}

/** One line for a run: the scalar fields of the function's JSON summary, or its error. */
export function describeRun(run: RunRow): string {
  if (!run.response) return run.error_msg ?? run.response_text ?? run.state;
  const skip = new Set(["run_id", "job_name", "trigger", "worker_id"]);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(run.response)) {
    if (skip.has(k)) continue;
    if (v === null || typeof v !== "object") parts.push(`${k}=${v}`);
    else if (Array.isArray(v)) parts.push(`${k}=${v.length}`);
  }
  return parts.join(" ");
}

/** A movie of the summary's "latest movies". */
export interface MovieRow {
  tmdb_id: number;
  title: string;
  release_date: Date | string | null;
}

/** `  <tmdb id>  <title> (<year>)`, the year left out when the date is unknown. */
export function movieLine(movie: MovieRow): string {
  const date = movie.release_date;
  const year = date instanceof Date ? date.toISOString().slice(0, 4) : date?.slice(0, 4);
  return `  ${String(movie.tmdb_id).padStart(8)}  ${movie.title}${year ? ` (${year})` : ""}`;
}

/** Runs the main job against a running stack; returns an exit code. */
export async function runMainJob(_cfg: StackConfig, info: StackInfo): Promise<number> {
  const sql = postgres(info.dbUrl, { max: 2, onnotice: () => {} });
  const errors: string[] = [];
  try {
    const since = new Date();
    const [{ before }] = await sql`select count(*)::int as before from public.works`;
    step(
      `main job: the design summary's manual test against ${
        info.tmdbIsStandin ? "the TMDB stand-in" : "TMDB"
      }`,
    );
    const runs: RunRow[] = [];
    for (
      const [label, call] of [
        [
          "select call_scheduled_ingest('mixed_daily', 30, 'manual')",
          () => sql`select public.call_scheduled_ingest('mixed_daily', 30, 'manual')`,
        ],
        ["select call_daily_refresh()", () => sql`select public.call_daily_refresh()`],
        ["select call_refresh_worker()", () => sql`select public.call_refresh_worker()`],
      ] as const
    ) {
      const run = await callAndWait(sql, label, call);
      runs.push(run);
      if (run.state !== "done") errors.push(`${run.function_name}: ${describeRun(run)}`);
    }
    const [{ after }] = await sql`select count(*)::int as after from public.works`;
    const queue =
      await sql`select status, count(*)::int as n from public.refresh_queue group by status order by status`;
    const [api] = await sql`
      select count(*)::int as calls,
             count(*) filter (where http_status between 200 and 299)::int as ok,
             count(*) filter (where error is not null)::int as errors,
             coalesce(round(avg(duration_ms)), 0)::int as avg_ms
      from public.tmdb_api_logs where created_at >= ${since}`;
    const [ingestLog] = await sql`
      select source, status, requested, found, ingested, unchanged, failed, skipped_fresh, duration_ms, error
      from public.scheduled_ingestion_log where created_at >= ${since} order by created_at desc limit 1`;
    const sample = await sql<MovieRow[]>`
      select tmdb_id, title, release_date from public.works
      order by first_ingested_at desc, id desc limit 5`;

    console.log("\n=== main job summary ===");
    for (const r of runs) {
      console.log(
        `${r.function_name.padEnd(17)} HTTP ${r.status_code ?? "-"}  ${
          describeRun(r).slice(0, 300)
        }`,
      );
    }
    if (ingestLog) {
      console.log(
        `scheduled ingest   ${ingestLog.source}: ${ingestLog.status}, found ${ingestLog.found}, ingested ${ingestLog.ingested}, ` +
          `unchanged ${ingestLog.unchanged}, skipped fresh ${ingestLog.skipped_fresh}, failed ${ingestLog.failed}, ${ingestLog.duration_ms} ms`,
      );
    }
    console.log(`works              ${before} → ${after} movies in the catalog`);
    console.log(
      `refresh_queue      ${
        queue.length
          ? queue.map((q) => `${q.status}=${q.n}`).join(" ")
          : "empty (no movie is due yet)"
      }`,
    );
    console.log(
      `TMDB calls         ${api.calls} (${api.ok} ok, ${api.errors} with errors, avg ${api.avg_ms} ms)`,
    );
    if (sample.length) {
      console.log("latest movies:");
      for (const m of sample) console.log(movieLine(m));
    }
    if (errors.length) {
      console.log(`errors:\n  ${errors.join("\n  ")}`);
    } else {
      console.log("errors             none");
    }
    console.log(
      "\nThe stack keeps running with cron active. `npm run status` shows it; `npm stop` stops it.",
    );
    return errors.length ? 1 : 0;
  } finally {
    await sql.end();
  }
}
