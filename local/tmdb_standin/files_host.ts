/**
 * The stand-in's files host: `GET /p/exports/<file>` on the API's origin, as
 * `files.tmdb.org/p/exports/…` serves TMDB's daily id exports — no auth, no API rate limit,
 * gzip'd bodies streamed as they are generated (`exports.ts`), 404 for a file that is not
 * there: a name that is not an export, a day in the future, today's before its publication
 * hour, a day older than the kept 90, or a day withheld through the control API.
 *
 * @module
 */

import type { Catalog } from "./catalog.ts";
import {
  EXPORT_KEEP_DAYS,
  EXPORT_PUBLISH_HOUR,
  exportFileName,
  exportFileStream,
  type ExportRules,
  exportStatus,
  parseExportFileName,
} from "./exports.ts";
import { dayOf, isoDay, type SimClock } from "./time.ts";

/** Path prefix of the export files. */
export const EXPORTS_PREFIX = "/p/exports/";
/** Content type of an export file (a gzip file, not a gzip-encoded body). */
export const EXPORT_CONTENT_TYPE = "application/gzip";

/** The publication settings the control API shows and changes. */
export interface ExportSettings {
  /** UTC hour the day's files appear (0 ≤ h < 24). */
  publishHourUtc: number;
  /** Days a file is kept. */
  keepDays: number;
  /** Days whose files were never published (`YYYY-MM-DD`, ascending). */
  withheld: string[];
}

/** The export files of one catalog. */
export class ExportFiles {
  readonly #catalog: Catalog;
  readonly #clock: SimClock;
  #publishHour: number;
  #withheld = new Set<number>();

  /** Files of `catalog` at the simulated now of `clock`, published at `publishHour` UTC. */
  constructor(catalog: Catalog, clock: SimClock, publishHour = EXPORT_PUBLISH_HOUR) {
    this.#catalog = catalog;
    this.#clock = clock;
    this.#publishHour = checkHour(publishHour);
  }

  /** The current publication settings. */
  settings(): ExportSettings {
    return {
      publishHourUtc: this.#publishHour,
      keepDays: EXPORT_KEEP_DAYS,
      withheld: [...this.#withheld].sort((a, b) => a - b).map(isoDay),
    };
  }

  /** Changes the publication hour and/or replaces the withheld days (`YYYY-MM-DD`). */
  update(change: { publishHourUtc?: number; withheld?: readonly string[] }): void {
    if (change.publishHourUtc !== undefined) this.#publishHour = checkHour(change.publishHourUtc);
    if (change.withheld !== undefined) {
      const days = change.withheld.map((text) => {
        const ms = Date.parse(`${text}T00:00:00Z`);
        if (
          !/^\d{4}-\d{2}-\d{2}$/.test(text) || !Number.isFinite(ms) || isoDay(dayOf(ms)) !== text
        ) {
          throw new Error(`withheld: not a YYYY-MM-DD day: ${JSON.stringify(text)}`);
        }
        return dayOf(ms);
      });
      this.#withheld = new Set(days);
    }
  }

  /** The rules in force. */
  rules(): ExportRules {
    return { publishHour: this.#publishHour, keepDays: EXPORT_KEEP_DAYS, withheld: this.#withheld };
  }

  /** Names of the files downloadable now, newest first (main and adult for each day). */
  available(): string[] {
    const now = this.#clock.nowMs();
    const today = dayOf(now);
    const out: string[] = [];
    for (let day = today; day >= today - EXPORT_KEEP_DAYS; day--) {
      if (exportStatus(day, now, this.rules()) !== "published") continue;
      out.push(exportFileName("movie", day), exportFileName("adult_movie", day));
    }
    return out;
  }

  /** Answers a request for `path` (under {@link EXPORTS_PREFIX}). */
  handle(req: Request, path: string): Response {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "Method Not Allowed\n", { allow: "GET, HEAD" });
    }
    const name = path.slice(EXPORTS_PREFIX.length);
    const file = parseExportFileName(name);
    if (!file) return text(404, `Not Found: ${name}\n`);
    const status = exportStatus(file.day, this.#clock.nowMs(), this.rules());
    if (status !== "published") return text(404, `Not Found: ${name} (${status})\n`);
    const body = req.method === "HEAD"
      ? null
      : exportFileStream(this.#catalog, file.day, file.kind);
    return new Response(body, {
      status: 200,
      headers: { "content-type": EXPORT_CONTENT_TYPE, "cache-control": "public, max-age=3600" },
    });
  }
}

function checkHour(hour: number): number {
  if (!(Number.isFinite(hour) && hour >= 0 && hour < 24)) {
    throw new Error(`publishHourUtc must be a number in [0, 24), got ${hour}`);
  }
  return hour;
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain;charset=utf-8", ...headers },
  });
}
