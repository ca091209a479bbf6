/**
 * TMDB's daily id exports (`files.tmdb.org/p/exports/movie_ids_MM_DD_YYYY.json.gz`): one JSON
 * object per line, `{"adult":false,"id":550,"original_title":"Fight Club","popularity":61.4,
 * "video":false}` (the file as a whole is not JSON), gzip'd, for the catalog as of that day;
 * adult titles only in `adult_movie_ids_MM_DD_YYYY.json.gz`.
 *
 * The file of day D lists the movies that exist at D 00:00 UTC (after that instant's
 * additions and deletions, `lifecycle.ts`), in id order, with the popularity they show then.
 * It is published at 08:00 UTC of D (TMDB: 07:00–08:00; before that a client must use D − 1's)
 * and kept 90 days. Lines are generated as the file is read and gzip'd on the fly, a few
 * thousand at a time: a 1.2 M-line file is never held in memory.
 *
 * @module
 */

import type { Catalog } from "./catalog.ts";
import { DAY_MS, dayOf, HOUR_MS } from "./time.ts";

/** Days an export stays available (today's and the 90 before it). */
export const EXPORT_KEEP_DAYS = 90;
/** UTC hour at which the day's export is published (TMDB: between 07:00 and 08:00). */
export const EXPORT_PUBLISH_HOUR = 8;
/** Lines generated per chunk of the stream. */
const LINES_PER_CHUNK = 4096;

/** Which export file: the main one or the adult titles. */
export type ExportKind = "movie" | "adult_movie";

/** One line of an export file. */
export interface ExportRow {
  /** Adult flag. */
  adult: boolean;
  /** TMDB id. */
  id: number;
  /** `original_title`. */
  original_title: string;
  /** Popularity at 00:00 UTC of the file's day. */
  popularity: number;
  /** `video`. */
  video: boolean;
}

/** Whether a day's export can be downloaded, and if not, why. */
export type ExportStatus =
  | "published"
  | "future"
  | "not_yet_published"
  | "expired"
  | "withheld";

/** When exports are published and for how long. */
export interface ExportRules {
  /** UTC hour (0 ≤ h < 24, fractions allowed) the day's file appears (default 8). */
  publishHour?: number;
  /** Days a file stays (default 90). */
  keepDays?: number;
  /** Days whose file is missing (never published), as UTC day numbers. */
  withheld?: ReadonlySet<number>;
}

const NAME = /^(movie|adult_movie)_ids_(\d{2})_(\d{2})_(\d{4})\.json\.gz$/;

/** `movie_ids_MM_DD_YYYY.json.gz` (or `adult_movie_ids_…`) of a UTC day number. */
export function exportFileName(kind: ExportKind, day: number): string {
  const d = new Date(day * DAY_MS);
  const mm = String(d.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(d.getUTCDate()).padStart(2, "0");
  return `${kind}_ids_${mm}_${dd}_${d.getUTCFullYear()}.json.gz`;
}

/** The kind and UTC day of an export file name, or null if it is not one (or no such date). */
export function parseExportFileName(name: string): { kind: ExportKind; day: number } | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [, kind, mm, dd, yyyy] = m;
  const ms = Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd));
  const d = new Date(ms);
  if (d.getUTCMonth() + 1 !== Number(mm) || d.getUTCDate() !== Number(dd)) return null;
  return { kind: kind as ExportKind, day: dayOf(ms) };
}

/** Whether the export of `day` can be downloaded at `nowMs` under `rules`. */
export function exportStatus(day: number, nowMs: number, rules: ExportRules = {}): ExportStatus {
  const today = dayOf(nowMs);
  if (day > today) return "future";
  const publishHour = rules.publishHour ?? EXPORT_PUBLISH_HOUR;
  if (day === today && nowMs < today * DAY_MS + publishHour * HOUR_MS) return "not_yet_published";
  if (day < today - (rules.keepDays ?? EXPORT_KEEP_DAYS)) return "expired";
  if (rules.withheld?.has(day)) return "withheld";
  return "published";
}

/** One export line (TMDB's key order; no trailing newline). */
export function exportLine(row: ExportRow): string {
  return `{"adult":${row.adult},"id":${row.id},"original_title":${
    JSON.stringify(row.original_title)
  },"popularity":${row.popularity},"video":${row.video}}`;
}

/**
 * The rows of the export of `day` (movies existing at its 00:00 UTC, id order), generated
 * lazily: only the day's popularity board (8 bytes a movie) is computed up front.
 */
export function* exportRows(catalog: Catalog, day: number, kind: ExportKind): Generator<ExportRow> {
  const at = day * DAY_MS;
  const lc = catalog.lifecycle;
  const count = lc.countBy(day);
  const { popularity } = catalog.board(at);
  const ids = lc.ids(count);
  const adult = catalog.attributes.adultFlags(count);
  const added = lc.addDays(count);
  const deleted = lc.deleteDays(count);
  const wantAdult = kind === "adult_movie" ? 1 : 0;
  const row = (i: number): ExportRow | null => {
    if (adult[i] !== wantAdult || !(added[i] <= day && day < deleted[i])) return null;
    const fields = catalog.exportFields(i);
    return {
      adult: adult[i] === 1,
      id: ids[i],
      original_title: fields.originalTitle,
      popularity: popularity[i],
      video: fields.video,
    };
  };
  // Id order: the anchor day's movies merged with the ghosts (ids among theirs), then the
  // later additions (ids above all of them).
  const size = lc.size;
  const ghostEnd = size + lc.ghostCount;
  let g = size;
  for (let i = 0; i < size; i++) {
    while (g < ghostEnd && ids[g] < ids[i]) {
      const r = row(g++);
      if (r) yield r;
    }
    const r = row(i);
    if (r) yield r;
  }
  while (g < ghostEnd) {
    const r = row(g++);
    if (r) yield r;
  }
  for (let i = ghostEnd; i < count; i++) {
    const r = row(i);
    if (r) yield r;
  }
}

/** The export of `day` as a stream of newline-terminated JSON lines (UTF-8, not gzip'd). */
export function exportTextStream(
  catalog: Catalog,
  day: number,
  kind: ExportKind,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  const encoder = new TextEncoder();
  let rows: Generator<ExportRow> | null = null;
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      rows ??= exportRows(catalog, day, kind);
      const lines: string[] = [];
      for (let n = 0; n < LINES_PER_CHUNK; n++) {
        const next = rows.next();
        if (next.done) break;
        lines.push(exportLine(next.value));
      }
      if (lines.length > 0) controller.enqueue(encoder.encode(lines.join("\n") + "\n"));
      if (lines.length < LINES_PER_CHUNK) controller.close();
    },
    cancel() {
      rows?.return(undefined);
    },
  }, { highWaterMark: 1 });
}

/** The export file of `day`, gzip'd as TMDB serves it (streamed). */
export function exportFileStream(
  catalog: Catalog,
  day: number,
  kind: ExportKind,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  return exportTextStream(catalog, day, kind).pipeThrough(new CompressionStream("gzip"));
}
