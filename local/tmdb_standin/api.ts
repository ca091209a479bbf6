/**
 * The API routes the stand-in imitates (`/movie/{id}`, the lists, `/movie/changes`,
 * `/configuration`, `/genre/movie/list`) with TMDB's parameter rules: pages 1..500, at most
 * 20 appended parts, changes windows of at most 14 days. A route turns a path, its query and
 * the simulated now into an answer; served payloads are varied like TMDB's
 * (`variation.ts`) unless variation is off.
 *
 * @module
 */

import type { Catalog } from "./catalog.ts";
import { type Answer, ok, TMDB_ERRORS, tmdbError } from "./http.ts";
import { MAX_PAGE } from "./lists.ts";
import { DAY_MS, isoDay } from "./time.ts";
import { varyDetails, varyPage } from "./variation.ts";

/** TMDB allows at most this many `append_to_response` parts. */
export const MAX_APPEND_PARTS = 20;
/** `/movie/changes` windows may span at most this many days. */
export const MAX_CHANGES_WINDOW_DAYS = 14;

const MOVIE_PATH = /^\/movie\/(\d+)(?:-[^/]*)?$/;

/** A `page` parameter: missing → 1; an integer 1..500 → it; anything else → null (400/22). */
export function parsePage(value: string | null): number | null {
  if (value === null) return 1;
  if (!/^\d{1,6}$/.test(value)) return null;
  const n = Number(value);
  return n >= 1 && n <= MAX_PAGE ? n : null;
}

/** A `start_date` / `end_date`: `YYYY-MM-DD` (a UTC day) or an ISO date-time; else null. */
export function parseDate(value: string): { ms: number; dateOnly: boolean } | null {
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

/** Endpoint template of an API path (the stats key), and the movie id of `/movie/{id}`. */
export function endpointOf(path: string): { endpoint: string; movieId?: number } {
  const m = MOVIE_PATH.exec(path);
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

/** What the routes need. */
export interface ApiOptions {
  /** The catalog served. */
  catalog: Catalog;
  /** Whether payloads are varied like TMDB's. */
  variation: boolean;
  /** Whether an existing movie is answered 404 anyway (a fault), counted by the caller. */
  notFoundFault?: (id: number) => boolean;
}

/** An API router: `(path without /3, query, simulated now) → answer`. */
export type ApiRoute = (path: string, query: URLSearchParams, nowMs: number) => Answer;

/** The API routes over a catalog. */
export function createApi(options: ApiOptions): ApiRoute {
  const { catalog, variation } = options;
  const varied = { seed: catalog.seed };
  const listAnswer = <T extends { page: number; results: object[] }>(endpoint: string, page: T) =>
    ok(variation ? varyPage(page, endpoint, varied).body : page);

  return (path, q, now) => {
    const listPage = () => parsePage(q.get("page"));
    const movie = MOVIE_PATH.exec(path);
    if (movie) {
      const parts = (q.get("append_to_response") ?? "").split(",").map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (parts.length > MAX_APPEND_PARTS) return tmdbError(TMDB_ERRORS.tooManyAppend);
      const id = Number(movie[1]);
      if (!Number.isSafeInteger(id) || !catalog.exists(id, now)) {
        return tmdbError(TMDB_ERRORS.notFound);
      }
      if (options.notFoundFault?.(id)) return tmdbError(TMDB_ERRORS.notFound);
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
}
