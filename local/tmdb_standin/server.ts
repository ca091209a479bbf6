/**
 * Local HTTP stand-in for the TMDB v3 API (https://api.themoviedb.org/3), serving the
 * deterministic synthetic catalog from `catalog.ts` under `/3/...` (and without the prefix),
 * varied like real TMDB's payloads (`variation.ts`, on unless turned off), with TMDB's error
 * bodies, a token-bucket rate limit, a simulated clock, deterministic fault injection and a
 * control API under `/__control/...`.
 *
 * In-process: `const tmdb = await startTmdbStandin({ port: 0, token: "t" })`, then point the
 * client at `tmdb.url` and `await tmdb.close()` at the end.
 * As a process: `deno run -A local/tmdb_standin/server.ts --port 54329 --token …`; it prints
 * `{"event":"listening","url":…}` and then one JSON line per request.
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import {
  type Catalog,
  createCatalog,
  DAY_MS,
  DEFAULT_SEED,
  DEFAULT_SIZE,
  isoDay,
  MAX_PAGE,
} from "./catalog.ts";
import { mulberry32, unit4 } from "./random.ts";
import { varyDetails, varyPage } from "./variation.ts";

/** TMDB allows at most this many `append_to_response` parts. */
export const MAX_APPEND_PARTS = 20;
/** `/movie/changes` windows may span at most this many days. */
export const MAX_CHANGES_WINDOW_DAYS = 14;

/** TMDB's error bodies used by the stand-in: `[http status, status_code, status_message]`. */
export const TMDB_ERRORS = {
  invalidKey: [401, 7, "Invalid API key: You must be granted a valid key."],
  notFound: [404, 34, "The resource you requested could not be found."],
  invalidPage: [
    400,
    22,
    "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
  ],
  tooManyAppend: [
    400,
    27,
    "Too many append to response objects: The maximum number of remote calls is 20.",
  ],
  invalidDateRange: [422, 20, "Invalid date range: Should be a range no longer than 14 days."],
  invalidParameters: [422, 5, "Invalid parameters: Your request parameters are incorrect."],
  internal: [500, 11, "Internal error: Something went wrong, contact TMDb."],
  offline: [503, 9, "Service offline: This service is temporarily offline, try again later."],
  backendTimeout: [504, 24, "Your request to the backend server timed out. Try again."],
} as const satisfies Record<string, TmdbError>;

/** Fault knobs (all optional; `POST /__control/faults` replaces the whole set). */
export const faultConfigSchema = z.object({
  /** Share of API requests answered 500/502/503/504 (502 is an HTML page, like a proxy). */
  errorRate5xx: z.number().min(0).max(1).optional(),
  /** Share of API requests answered 429 / status_code 25 (on top of the real rate limit). */
  rate429: z.number().min(0).max(1).optional(),
  /** Retry-After seconds on 429s; null → no Retry-After header (default 1 for injected). */
  retryAfterSeconds: z.number().int().min(0).max(86_400).nullable().optional(),
  /** Share of API requests that never answer (until the client aborts, `hangMs`, or close). */
  hangRate: z.number().min(0).max(1).optional(),
  /** How long a hang lasts before the request is answered normally; null/absent = forever. */
  hangMs: z.number().int().min(0).max(3_600_000).nullable().optional(),
  /** Extra latency for every API request (overrides the server's `latencyMs`). */
  latencyMs: z.number().min(0).max(600_000).optional(),
  /** Share of API requests whose 200 body is truncated (unparseable JSON). */
  malformedJsonRate: z.number().min(0).max(1).optional(),
  /** Movie ids answered 404 / status_code 34 (as if deleted). */
  notFoundIds: z.array(z.number().int().positive()).max(1_000_000).optional(),
  /** Share of movie ids answered 404, chosen deterministically per id from `seed`. */
  notFoundRate: z.number().min(0).max(1).optional(),
  /** Seed of the fault PRNG (default 1); setting faults restarts the sequence. */
  seed: z.number().int().optional(),
}).strict().refine(
  (f) =>
    (f.errorRate5xx ?? 0) + (f.rate429 ?? 0) + (f.hangRate ?? 0) + (f.malformedJsonRate ?? 0) <=
      1 + 1e-9,
  { message: "errorRate5xx + rate429 + hangRate + malformedJsonRate must be at most 1" },
);

/** Fault configuration (see {@link faultConfigSchema}). */
export type FaultConfig = z.infer<typeof faultConfigSchema>;

const clockSchema = z.union([
  z.object({ now: z.string().datetime({ offset: true }) }).strict(),
  z.object({ advanceMs: z.number().finite() }).strict(),
]);

const rateLimitSchema = z.object({
  perSecond: z.number().positive().max(1_000_000).nullable(),
}).strict();

/** How many faults of each kind were injected since the last reset. */
export interface InjectedFaults {
  /** 5xx answers. */
  error5xx: number;
  /** Injected 429s (not counting the real rate limiter). */
  rate429: number;
  /** Requests that hung. */
  hang: number;
  /** 200s with a truncated body. */
  malformedJson: number;
  /** 404s for ids that exist in the catalog. */
  notFound: number;
}

/** Request statistics (`GET /__control/stats`, `stats()`). */
export interface StandinStats {
  /** API requests received (control requests excluded). */
  total: number;
  /** Requests per endpoint template, e.g. `"/movie/{id}"`, `"/movie/popular"`. */
  byEndpoint: Record<string, number>;
  /** `/movie/{id}` requests per id. */
  byMovieId: Record<string, number>;
  /** Answers per HTTP status (requests aborted while hanging are not counted here). */
  byStatus: Record<string, number>;
  /** 429s from the real token bucket. */
  rateLimited: number;
  /** Most API requests received in any one second (a sliding 1,000 ms window, real time). */
  busiestSecond: number;
  /** Injected faults. */
  injected: InjectedFaults;
  /** The simulated now (ISO). */
  now: string;
}

/** One request log line (never contains the query string, token or API key). */
export interface RequestLogEntry {
  /** Always `"request"`. */
  event: "request";
  /** HTTP method. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status answered (499 when the client went away during a hang). */
  status: number;
  /** Milliseconds spent. */
  ms: number;
  /** Injected fault, if any. */
  fault?: string;
}

/** Options of {@link startTmdbStandin}. */
export interface TmdbStandinOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Catalog size (default 5000). */
  size?: number;
  /** Catalog seed (default 1). */
  seed?: number;
  /** Catalog anchor (release dates are laid out around it); default: the initial simulated now. */
  anchor?: Date | string;
  /** A prebuilt catalog (then `size`, `seed`, `anchor` are ignored). */
  catalog?: Catalog;
  /** Accepted `Authorization: Bearer …` token. With neither `token` nor `apiKey`, no auth. */
  token?: string;
  /** Accepted `?api_key=` value. */
  apiKey?: string;
  /** Token-bucket limit (requests/second, burst = one second's worth); null/absent = none. */
  rateLimitPerSecond?: number | null;
  /** Latency added to every API answer, ms (default 0). */
  latencyMs?: number;
  /** Base clock (default real time); the simulated now is this plus the clock offset. */
  now?: () => Date;
  /** Initial fault configuration. */
  faults?: FaultConfig;
  /**
   * Vary payloads like real TMDB (default true): see `variation.ts` for the kinds and rates,
   * seeded with the catalog's seed. False serves the catalog's payloads as built.
   */
  variation?: boolean;
  /** Called once per API request after it is answered (e.g. to print a JSON log line). */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** A running stand-in. */
export interface TmdbStandin {
  /** Base URL including `/3`, e.g. `http://127.0.0.1:54329/3` (use as TMDB_BASE_URL). */
  readonly url: string;
  /** Origin without `/3` (the control API lives at `${origin}/__control/...`). */
  readonly origin: string;
  /** Bound port. */
  readonly port: number;
  /** The catalog being served. */
  readonly catalog: Catalog;
  /** Whether payloads are varied (`variation.ts`). */
  readonly variation: boolean;
  /** Stops the server: pending hangs and latencies end, then connections close. Idempotent. */
  close(): Promise<void>;
  /** A snapshot of the request statistics. */
  stats(): StandinStats;
  /** Zeroes the statistics. */
  resetStats(): void;
  /** Replaces the fault configuration (validated; throws on bad values) and reseeds it. */
  setFaults(faults: FaultConfig): void;
  /** The current fault configuration. */
  faults(): FaultConfig;
  /** Changes the rate limit (null = none). */
  setRateLimit(perSecond: number | null): void;
  /** The simulated now. */
  now(): Date;
  /** Sets the simulated now (time keeps flowing from there with the base clock). */
  setNow(date: Date | string): void;
  /** Moves the simulated clock by `ms` (may be negative). */
  advance(ms: number): void;
}

type TmdbError = readonly [status: number, code: number, message: string];
type JsonBody = { kind: "json"; status: number; body: unknown; headers?: Record<string, string> };
type RawBody = { kind: "raw"; status: number; text: string; contentType: string };
type Answer = JsonBody | RawBody;
/** `answer: null` = the client went away (nothing to send). */
type ApiResult = { answer: Answer | null; fault?: string; malformed?: boolean };

const JSON_TYPE = "application/json;charset=utf-8";

function tmdbError(
  [status, code, message]: TmdbError,
  headers?: Record<string, string>,
): JsonBody {
  return {
    kind: "json",
    status,
    body: { success: false, status_code: code, status_message: message },
    headers,
  };
}

function ok(body: unknown): JsonBody {
  return { kind: "json", status: 200, body };
}

function emptyStats(): Omit<StandinStats, "now"> {
  return {
    total: 0,
    byEndpoint: {},
    byMovieId: {},
    byStatus: {},
    rateLimited: 0,
    busiestSecond: 0,
    injected: { error5xx: 0, rate429: 0, hang: 0, malformedJson: 0, notFound: 0 },
  };
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function parsePage(value: string | null): number | null {
  if (value === null) return 1;
  if (!/^\d{1,6}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 && n <= MAX_PAGE ? n : null;
}

function parseDate(value: string): { ms: number; dateOnly: boolean } | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isFinite(ms) || isoDay(Math.floor(ms / DAY_MS)) !== value) return null;
    return { ms, dateOnly: true };
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(value)) {
    const ms = Date.parse(value.replace(" ", "T"));
    return Number.isFinite(ms) ? { ms, dateOnly: false } : null;
  }
  return null;
}

/** Equal-time string comparison (the token never leaks through timing). */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Resolves true after `ms` (null = never), false as soon as `signal` aborts. */
function pause(ms: number | null, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (ms !== null) {
      timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
    }
  });
}

/** Endpoint template used as the stats key. */
function endpointOf(path: string): { endpoint: string; movieId?: number } {
  const m = /^\/movie\/(\d+)(?:-[^/]*)?$/.exec(path);
  if (m) return { endpoint: "/movie/{id}", movieId: Number(m[1]) };
  switch (path) {
    case "/movie/popular":
    case "/movie/now_playing":
    case "/movie/upcoming":
    case "/movie/changes":
    case "/trending/movie/day":
    case "/trending/movie/week":
    case "/configuration":
    case "/genre/movie/list":
      return { endpoint: path };
    default:
      return { endpoint: "other" };
  }
}

/** Starts the stand-in. Resolves once it is listening. */
export function startTmdbStandin(options: TmdbStandinOptions = {}): Promise<TmdbStandin> {
  const baseNow = options.now ?? (() => new Date());
  let offsetMs = 0;
  const simNowMs = () => baseNow().getTime() + offsetMs;
  const catalog = options.catalog ??
    createCatalog({
      size: options.size ?? DEFAULT_SIZE,
      seed: options.seed ?? DEFAULT_SEED,
      anchor: options.anchor ?? new Date(simNowMs()),
    });
  const token = options.token;
  const apiKey = options.apiKey;
  if (token !== undefined && token.length === 0) throw new Error("token must not be empty");
  if (apiKey !== undefined && apiKey.length === 0) throw new Error("apiKey must not be empty");
  const variation = options.variation ?? true;
  const varied = { seed: catalog.seed };
  const listAnswer = <T extends { page: number; results: object[] }>(endpoint: string, page: T) =>
    ok(variation ? varyPage(page, endpoint, varied).body : page);
  const baseLatency = options.latencyMs ?? 0;
  if (!(baseLatency >= 0)) throw new Error(`latencyMs must be ≥ 0, got ${baseLatency}`);

  // Rate limit (real time, not simulated time).
  let ratePerSecond: number | null = null;
  let tokens = 0;
  let refilledAt = performance.now();
  const setRateLimit = (perSecond: number | null) => {
    if (perSecond !== null && !(perSecond > 0)) {
      throw new Error(`rateLimitPerSecond must be > 0 or null, got ${perSecond}`);
    }
    ratePerSecond = perSecond;
    tokens = perSecond ?? 0;
    refilledAt = performance.now();
  };
  setRateLimit(options.rateLimitPerSecond ?? null);
  /** Takes a token; returns 0 when allowed, else the seconds to wait for the next one. */
  const takeToken = (): number => {
    if (ratePerSecond === null) return 0;
    const t = performance.now();
    tokens = Math.min(ratePerSecond, tokens + ((t - refilledAt) / 1000) * ratePerSecond);
    refilledAt = t;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return (1 - tokens) / ratePerSecond;
  };

  // Faults.
  let faults: FaultConfig = {};
  let faultRandom = mulberry32(1);
  let notFoundIds = new Set<number>();
  const setFaults = (next: FaultConfig) => {
    const parsed = faultConfigSchema.parse(next);
    faults = parsed;
    faultRandom = mulberry32(parsed.seed ?? 1);
    notFoundIds = new Set(parsed.notFoundIds ?? []);
  };
  setFaults(options.faults ?? {});

  // Stats.
  let stats = emptyStats();
  const snapshot = (): StandinStats => ({
    ...structuredClone(stats),
    now: new Date(simNowMs()).toISOString(),
  });

  const closing = new AbortController();

  const authorized = (req: Request, url: URL): boolean => {
    if (token === undefined && apiKey === undefined) return true;
    const header = req.headers.get("authorization");
    if (token !== undefined && header !== null) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
      if (m && sameSecret(m[1], token)) return true;
    }
    const key = url.searchParams.get("api_key");
    return apiKey !== undefined && key !== null && sameSecret(key, apiKey);
  };

  const isDeleted = (id: number): boolean =>
    notFoundIds.has(id) ||
    (faults.notFoundRate !== undefined && unit4(faults.seed ?? 1, id, 0, 0x404) <
        faults.notFoundRate);

  const route = (path: string, url: URL, now: number): Answer => {
    const q = url.searchParams;
    const listPage = () => parsePage(q.get("page"));
    const movie = /^\/movie\/(\d+)(?:-[^/]*)?$/.exec(path);
    if (movie) {
      const parts = (q.get("append_to_response") ?? "").split(",").map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (parts.length > MAX_APPEND_PARTS) return tmdbError(TMDB_ERRORS.tooManyAppend);
      const id = Number(movie[1]);
      if (!Number.isSafeInteger(id) || !catalog.has(id)) return tmdbError(TMDB_ERRORS.notFound);
      if (isDeleted(id)) {
        stats.injected.notFound++;
        return tmdbError(TMDB_ERRORS.notFound);
      }
      const details = catalog.details(id, now, parts)!;
      return ok(variation ? varyDetails(details, varied).body : details);
    }
    switch (path) {
      case "/movie/popular":
      case "/movie/now_playing":
      case "/movie/upcoming":
      case "/trending/movie/day":
      case "/trending/movie/week": {
        const page = listPage();
        if (page === null) return tmdbError(TMDB_ERRORS.invalidPage);
        if (path === "/movie/popular") return listAnswer(path, catalog.popular(now, page));
        if (path === "/movie/now_playing") return listAnswer(path, catalog.nowPlaying(now, page));
        if (path === "/movie/upcoming") return listAnswer(path, catalog.upcoming(now, page));
        const window = path.endsWith("/day") ? "day" : "week";
        return listAnswer(path, catalog.trending(window, now, page));
      }
      case "/movie/changes": {
        const page = listPage();
        if (page === null) return tmdbError(TMDB_ERRORS.invalidPage);
        const startRaw = q.get("start_date");
        const endRaw = q.get("end_date");
        const start = startRaw ? parseDate(startRaw) : undefined;
        const end = endRaw ? parseDate(endRaw) : undefined;
        if (start === null || end === null) return tmdbError(TMDB_ERRORS.invalidParameters);
        const endRef = end ? end.ms : now;
        const endExclusive = end ? (end.dateOnly ? end.ms + DAY_MS : end.ms) : now + 1;
        const startMs = start ? start.ms : end?.dateOnly ? end.ms : endRef - DAY_MS;
        if (endRef - startMs > MAX_CHANGES_WINDOW_DAYS * DAY_MS) {
          return tmdbError(TMDB_ERRORS.invalidDateRange);
        }
        return listAnswer(path, catalog.changes(startMs, endExclusive, now, page));
      }
      case "/configuration":
        return ok(catalog.configuration());
      case "/genre/movie/list":
        return ok(catalog.genreList());
      default:
        return tmdbError(TMDB_ERRORS.notFound);
    }
  };

  const toResponse = (answer: Answer, malformed: boolean): Response => {
    if (answer.kind === "raw") {
      return new Response(answer.text, {
        status: answer.status,
        headers: { "content-type": answer.contentType },
      });
    }
    let text = JSON.stringify(answer.body);
    if (malformed) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    return new Response(text, {
      status: answer.status,
      headers: { "content-type": JSON_TYPE, ...answer.headers },
    });
  };

  const rateLimitMessage = (): TmdbError => [
    429,
    25,
    `Your request count (#) is over the allowed limit of (${ratePerSecond ?? 40}).`,
  ];

  const api = async (
    req: Request,
    url: URL,
    path: string,
  ): Promise<ApiResult> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return { answer: tmdbError(TMDB_ERRORS.notFound) };
    }
    const wait = takeToken();
    if (wait > 0) {
      stats.rateLimited++;
      const headers: Record<string, string> = {};
      if (faults.retryAfterSeconds !== null) {
        headers["retry-after"] = String(Math.max(1, Math.ceil(wait)));
      }
      return { answer: tmdbError(rateLimitMessage(), headers), fault: "rate-limit" };
    }
    if (!authorized(req, url)) return { answer: tmdbError(TMDB_ERRORS.invalidKey) };

    // Two draws per authorised request, always, so counts depend only on the request count.
    const u = faultRandom();
    const v = faultRandom();
    // Only touch req.signal when waiting (Deno warns about its legacy abort-on-success).
    let waitSignal: AbortSignal | undefined;
    const signal = () => (waitSignal ??= AbortSignal.any([req.signal, closing.signal]));
    const latency = faults.latencyMs ?? baseLatency;
    if (latency > 0 && !(await pause(latency, signal()))) {
      return { answer: closing.signal.aborted ? tmdbError(TMDB_ERRORS.offline) : null };
    }
    let x = u;
    const hangRate = faults.hangRate ?? 0;
    if (x < hangRate) {
      stats.injected.hang++;
      const finished = await pause(faults.hangMs ?? null, signal());
      if (!finished) {
        return {
          answer: closing.signal.aborted ? tmdbError(TMDB_ERRORS.offline) : null,
          fault: "hang",
        };
      }
    }
    x -= hangRate;
    const errorRate = faults.errorRate5xx ?? 0;
    if (x >= 0 && x < errorRate) {
      stats.injected.error5xx++;
      if (v < 0.4) return { answer: tmdbError(TMDB_ERRORS.internal), fault: "5xx" };
      if (v < 0.6) {
        return {
          answer: {
            kind: "raw",
            status: 502,
            contentType: "text/html",
            text:
              "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n",
          },
          fault: "5xx",
        };
      }
      if (v < 0.8) return { answer: tmdbError(TMDB_ERRORS.offline), fault: "5xx" };
      return { answer: tmdbError(TMDB_ERRORS.backendTimeout), fault: "5xx" };
    }
    x -= errorRate;
    const rate429 = faults.rate429 ?? 0;
    if (x >= 0 && x < rate429) {
      stats.injected.rate429++;
      const headers: Record<string, string> = {};
      if (faults.retryAfterSeconds !== null) {
        headers["retry-after"] = String(faults.retryAfterSeconds ?? 1);
      }
      return { answer: tmdbError(rateLimitMessage(), headers), fault: "429" };
    }
    x -= rate429;
    const malformed = x >= 0 && x < (faults.malformedJsonRate ?? 0);
    const answer = route(path, url, simNowMs());
    if (malformed && answer.status === 200) {
      stats.injected.malformedJson++;
      return { answer, fault: "malformed-json", malformed: true };
    }
    return { answer };
  };

  const control = async (req: Request, path: string): Promise<Response> => {
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": JSON_TYPE } });
    const readBody = async (): Promise<unknown> => {
      const text = await req.text();
      if (text.trim() === "") return {};
      return JSON.parse(text);
    };
    const bad = (error: unknown) =>
      json({
        error: error instanceof z.ZodError
          ? error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")
          : `invalid JSON body: ${(error as Error).message}`,
      }, 400);
    try {
      switch (`${req.method} ${path}`) {
        case "GET /__control/health":
          return json({
            ok: true,
            size: catalog.size,
            seed: catalog.seed,
            anchor: isoDay(catalog.anchorDay),
            now: new Date(simNowMs()).toISOString(),
            variation,
          });
        case "GET /__control/stats":
          return json(snapshot());
        case "POST /__control/reset":
          await req.body?.cancel();
          stats = emptyStats();
          lastSecond = [];
          return json({ ok: true });
        case "GET /__control/faults":
          return json(faults);
        case "POST /__control/faults": {
          const parsed = faultConfigSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          setFaults(parsed.data);
          return json({ ok: true, faults });
        }
        case "GET /__control/clock":
          return json({ now: new Date(simNowMs()).toISOString() });
        case "POST /__control/clock": {
          const parsed = clockSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          if ("now" in parsed.data) offsetMs = Date.parse(parsed.data.now) - baseNow().getTime();
          else offsetMs += parsed.data.advanceMs;
          return json({ now: new Date(simNowMs()).toISOString() });
        }
        case "POST /__control/rate-limit": {
          const parsed = rateLimitSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          setRateLimit(parsed.data.perSecond);
          return json({ ok: true, perSecond: ratePerSecond });
        }
        default:
          await req.body?.cancel();
          return json({ error: `unknown control route: ${req.method} ${path}` }, 404);
      }
    } catch (error) {
      return bad(error);
    }
  };

  /** Arrival times (ms) of the API requests of the last second, oldest first. */
  let lastSecond: number[] = [];
  const countInWindow = (at: number) => {
    let drop = 0;
    while (drop < lastSecond.length && lastSecond[drop] <= at - 1_000) drop++;
    if (drop > 0) lastSecond = lastSecond.slice(drop);
    lastSecond.push(at);
    if (lastSecond.length > stats.busiestSecond) stats.busiestSecond = lastSecond.length;
  };

  const handler = async (req: Request): Promise<Response> => {
    const started = performance.now();
    const url = new URL(req.url);
    const rawPath = url.pathname;
    if (rawPath.startsWith("/__control/")) return await control(req, rawPath);
    let path = rawPath === "/3" || rawPath.startsWith("/3/") ? rawPath.slice(2) : rawPath;
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const { endpoint, movieId } = endpointOf(path);
    stats.total++;
    countInWindow(started);
    bump(stats.byEndpoint, endpoint);
    if (movieId !== undefined) bump(stats.byMovieId, String(movieId));
    let result: ApiResult;
    try {
      result = await api(req, url, path);
    } catch (error) {
      console.error(JSON.stringify({
        event: "error",
        path,
        message: (error as Error).message,
      }));
      result = { answer: tmdbError(TMDB_ERRORS.internal) };
    }
    const status = result.answer?.status ?? 499;
    if (result.answer) bump(stats.byStatus, String(status));
    options.onRequest?.({
      event: "request",
      method: req.method,
      path: rawPath,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(result.fault ? { fault: result.fault } : {}),
    });
    if (!result.answer) return new Response(null, { status: 499 });
    return toResponse(result.answer, result.malformed === true);
  };

  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        port: options.port ?? 0,
        hostname: options.hostname ?? "127.0.0.1",
        onListen: (addr) => {
          const host = addr.hostname === "0.0.0.0" || addr.hostname === "::"
            ? "127.0.0.1"
            : addr.hostname.includes(":")
            ? `[${addr.hostname}]`
            : addr.hostname;
          const origin = `http://${host}:${addr.port}`;
          let closed: Promise<void> | null = null;
          resolve({
            url: `${origin}/3`,
            origin,
            port: addr.port,
            catalog,
            variation,
            close: () => {
              closed ??= (async () => {
                closing.abort();
                await server.shutdown();
                await server.finished;
              })();
              return closed;
            },
            stats: snapshot,
            resetStats: () => {
              stats = emptyStats();
              lastSecond = [];
            },
            setFaults,
            faults: () => structuredClone(faults),
            setRateLimit,
            now: () => new Date(simNowMs()),
            setNow: (date) => {
              const ms = date instanceof Date ? date.getTime() : Date.parse(date);
              if (!Number.isFinite(ms)) throw new Error(`setNow: not a valid date: ${date}`);
              offsetMs = ms - baseNow().getTime();
            },
            advance: (ms) => {
              if (!Number.isFinite(ms)) throw new Error(`advance: not a finite number: ${ms}`);
              offsetMs += ms;
            },
          });
        },
      }, handler);
    } catch (error) {
      reject(error);
    }
  });
}

// -------------------------------------------------------------------------------------------
// CLI
// -------------------------------------------------------------------------------------------

function numberFlag(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`--${name} must be a number in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** CLI entry point (see the module doc); resolves once the server is listening. */
export async function main(args: string[]): Promise<TmdbStandin> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string" },
      hostname: { type: "string" },
      size: { type: "string" },
      seed: { type: "string" },
      token: { type: "string" },
      "api-key": { type: "string" },
      "rate-limit": { type: "string" },
      "latency-ms": { type: "string" },
      now: { type: "string" },
      anchor: { type: "string" },
      variation: { type: "string" },
      quiet: { type: "boolean" },
    },
  });
  const envOr = (flag: string | undefined, name: string): string | undefined => {
    if (flag !== undefined) return flag;
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined;
    }
  };
  const rateRaw = values["rate-limit"];
  const rate = rateRaw === undefined || ["", "0", "none", "off"].includes(rateRaw)
    ? null
    : numberFlag("rate-limit", rateRaw, 0.001, 1_000_000);
  let now: (() => Date) | undefined;
  if (values.now !== undefined) {
    const start = Date.parse(values.now);
    if (!Number.isFinite(start)) throw new Error(`--now is not a valid date: ${values.now}`);
    const delta = start - Date.now();
    now = () => new Date(Date.now() + delta);
  }
  const quiet = values.quiet === true;
  const variation = values.variation ?? "on";
  if (variation !== "on" && variation !== "off") {
    throw new Error(`--variation must be on or off, got ${JSON.stringify(variation)}`);
  }
  const standin = await startTmdbStandin({
    port: numberFlag("port", values.port, 0, 65535) ?? 54329,
    hostname: values.hostname,
    size: numberFlag("size", values.size, 1, 5_000_000),
    seed: numberFlag("seed", values.seed, -(2 ** 31), 2 ** 32 - 1),
    token: envOr(values.token, "TMDB_STANDIN_TOKEN"),
    apiKey: envOr(values["api-key"], "TMDB_STANDIN_API_KEY"),
    rateLimitPerSecond: rate,
    latencyMs: numberFlag("latency-ms", values["latency-ms"], 0, 600_000),
    anchor: values.anchor,
    now,
    variation: variation === "on",
    onRequest: quiet ? undefined : (entry) => console.log(JSON.stringify(entry)),
  });
  console.log(JSON.stringify({
    event: "listening",
    url: standin.url,
    port: standin.port,
    size: standin.catalog.size,
    seed: standin.catalog.seed,
    anchor: isoDay(standin.catalog.anchorDay),
    now: standin.now().toISOString(),
    rateLimitPerSecond: rate,
    variation,
  }));
  return standin;
}

if (import.meta.main) {
  try {
    const standin = await main(Deno.args);
    let stopping = false;
    const stop = async (signal: Deno.Signal) => {
      if (stopping) return;
      stopping = true;
      console.log(JSON.stringify({ event: "stopping", signal }));
      await standin.close();
      console.log(JSON.stringify({ event: "stopped" }));
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
    Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  } catch (error) {
    console.error(JSON.stringify({ event: "error", message: (error as Error).message }));
    Deno.exit(2);
  }
}
