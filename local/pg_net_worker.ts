/**
 * pg_net stand-in worker: sends the HTTP requests queued in `net.http_request_queue` and
 * records each outcome in `net._http_response`, the way pg_net's C background worker does.
 *
 * - It only ever sees committed rows, so a request queued by a rolled-back transaction is
 *   never sent (pg_net's guarantee).
 * - Requests are sent concurrently (up to `--concurrency`), each with its own
 *   `timeout_milliseconds`; a timeout is recorded as `timed_out = true` and an error
 *   message, a connection failure as `error_msg`, never lost.
 * - The response row and the removal of the queue row are written in one transaction per
 *   request, so a worker stopped mid-flight leaves the request queued and it is sent again on
 *   restart (at-least-once). The real worker takes a batch of up to 200 rows and deletes them
 *   and records their responses in one transaction, committed after the slowest request of
 *   the batch (a fast request waits for a slow one): see docs/hosted-standins.md.
 * - A request is sent as queued: no headers when `headers` is null, no body when `body` is
 *   null (a POST then has an empty body), a DELETE with its body when it has one.
 * - Responses older than `--ttl-seconds` (pg_net.ttl, default 6 h) are pruned.
 *
 * Usage: deno run -A local/pg_net_worker.ts   (env PGNET_DB_URL = a superuser connection)
 */
import postgres from "postgres";

/** Options of the worker. */
export interface PgNetWorkerOptions {
  dbUrl: string;
  concurrency?: number;
  pollIntervalMs?: number;
  ttlSeconds?: number;
  log?: (obj: Record<string, unknown>) => void;
}

/** A row of `net.http_request_queue`, as the worker reads it. */
export interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string> | null;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

/** What the worker records in `net._http_response` for one request. */
export interface Outcome {
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean;
  error_msg: string | null;
}

/** Sends one request and describes its outcome in pg_net's terms. */
export async function sendRequest(req: QueuedRequest): Promise<Outcome> {
  const timeoutMs = Math.max(1, req.timeout_milliseconds);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      body: req.body && req.method !== "GET" ? new Uint8Array(req.body) : undefined,
      signal,
      redirect: "follow",
    });
    const content = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return {
      status_code: res.status,
      content_type: res.headers.get("content-type"),
      headers,
      content,
      timed_out: false,
      error_msg: null,
    };
  } catch (e) {
    const err = e as Error;
    if (signal.aborted || err.name === "TimeoutError") {
      return {
        status_code: null,
        content_type: null,
        headers: null,
        content: null,
        timed_out: true,
        error_msg: `Timeout of ${timeoutMs} ms reached`,
      };
    }
    const cause = err.cause instanceof Error ? err.cause.message : "";
    const detail = [err.message, cause].filter(Boolean).join(": ");
    const msg = /refused|connect/i.test(detail)
      ? `Couldn't connect to server: ${detail}`
      : `Request failed: ${detail}`;
    return {
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: false,
      error_msg: msg,
    };
  }
}

/** What a log line shows of a URL: its path only, since a query string may carry a secret. */
export function loggedPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "(invalid url)";
  }
}

/**
 * The worker's options from `PGNET_DB_URL` (required), `PGNET_CONCURRENCY` (default 64) and
 * `PGNET_TTL_SECONDS` (default 21600, pg_net.ttl's 6 h).
 */
export function workerOptionsFromEnv(
  env: { get(name: string): string | undefined },
): PgNetWorkerOptions {
  const dbUrl = env.get("PGNET_DB_URL");
  if (!dbUrl) {
    throw new Error("PGNET_DB_URL is not set: give the worker a superuser connection URL");
  }
  return {
    dbUrl,
    concurrency: Number(env.get("PGNET_CONCURRENCY") ?? 64),
    ttlSeconds: Number(env.get("PGNET_TTL_SECONDS") ?? 21600),
  };
}

/** Runs the worker until `signal` aborts. */
export async function runPgNetWorker(opts: PgNetWorkerOptions, signal: AbortSignal): Promise<void> {
  const concurrency = opts.concurrency ?? 64;
  const pollMs = opts.pollIntervalMs ?? 1000;
  const ttl = opts.ttlSeconds ?? 6 * 3600;
  const log = opts.log ??
    ((o) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...o })));
  const sql = postgres(opts.dbUrl, {
    max: 4,
    onnotice: () => {},
    connection: { application_name: "pg_net_standin" },
  });
  const inFlight = new Map<string, Promise<void>>();
  let wake: () => void = () => {};
  let pending = true;
  const wakeUp = () => {
    pending = true;
    wake();
  };

  const listener = await sql.listen("pg_net_standin", wakeUp);
  log({ level: "info", event: "pg_net_worker_started", concurrency, ttl_seconds: ttl });

  let lastPrune = 0;
  const prune = async () => {
    if (Date.now() - lastPrune < 60_000) return;
    lastPrune = Date.now();
    const res =
      await sql`delete from net._http_response where created < now() - make_interval(secs => ${ttl})`;
    if (res.count > 0) log({ level: "info", event: "pruned_responses", count: res.count });
  };

  const handle = async (req: QueuedRequest) => {
    const started = performance.now();
    const outcome = await sendRequest(req);
    await sql.begin(async (tx) => {
      await tx`insert into net._http_response
        (id, status_code, content_type, headers, content, timed_out, error_msg, created)
        values (${req.id}, ${outcome.status_code}, ${outcome.content_type},
                ${outcome.headers === null ? null : tx.json(outcome.headers)},
                ${outcome.content}, ${outcome.timed_out}, ${outcome.error_msg}, now())`;
      await tx`delete from net.http_request_queue where id = ${req.id}`;
    });
    log({
      level: outcome.error_msg ? "warn" : "info",
      event: "request_done",
      id: Number(req.id),
      method: req.method,
      path: loggedPath(req.url),
      status: outcome.status_code,
      timed_out: outcome.timed_out,
      error: outcome.error_msg,
      ms: Math.round(performance.now() - started),
    });
  };

  while (!signal.aborted) {
    try {
      await prune();
      if (inFlight.size < concurrency) {
        pending = false;
        const exclude = [...inFlight.keys()];
        const rows = await sql<QueuedRequest[]>`
          select id::text as id, method, url, headers, body, timeout_milliseconds
          from net.http_request_queue
          where not (id::text = any(${exclude}::text[]))
          order by id
          limit ${concurrency - inFlight.size}`;
        for (const row of rows) {
          const p = handle(row)
            .catch((e) =>
              log({ level: "error", event: "record_failed", id: Number(row.id), error: String(e) })
            )
            .finally(() => {
              inFlight.delete(row.id);
              wakeUp();
            });
          inFlight.set(row.id, p);
        }
        if (rows.length > 0) continue;
      }
    } catch (e) {
      log({ level: "error", event: "poll_failed", error: (e as Error).message });
    }
    if (!pending) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
        signal.addEventListener("abort", () => wake(), { once: true });
      });
    }
  }
  await Promise.allSettled([...inFlight.values()]);
  await listener.unlisten().catch(() => {});
  await sql.end({ timeout: 5 });
  log({ level: "info", event: "pg_net_worker_stopped" });
}

if (import.meta.main) {
  let options: PgNetWorkerOptions;
  try {
    options = workerOptionsFromEnv(Deno.env);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  const ac = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(sig, () => ac.abort());
  await runPgNetWorker(options, ac.signal);
}
