/**
 * The control API (`{origin}/__control/…`, no auth, JSON): health, stats and their reset, the
 * fault configuration, the simulated clock, the rate limit, the export files' publication. Bad bodies answer 400 with a
 * message naming the field; unknown routes 404.
 *
 * @module
 */

import { z } from "zod";
import type { Catalog } from "./catalog.ts";
import { faultConfigSchema, type Faults } from "./faults.ts";
import type { ExportFiles } from "./files_host.ts";
import { jsonResponse } from "./http.ts";
import type { TokenBucket } from "./rate_limit.ts";
import type { StatsRecorder } from "./stats.ts";
import { isoDay, type SimClock } from "./time.ts";

const clockSchema = z.union([
  z.object({ now: z.string().datetime({ offset: true }) }).strict(),
  z.object({ advanceMs: z.number().finite() }).strict(),
]);

const exportsSchema = z.object({
  publishHourUtc: z.number().min(0).lt(24).optional(),
  withheld: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).max(1000).optional(),
}).strict();

const rateLimitSchema = z.object({
  perSecond: z.number().positive().max(1_000_000).nullable(),
}).strict();

/** What the control API reads and changes. */
export interface ControlDeps {
  /** The catalog served. */
  catalog: Catalog;
  /** Whether payloads are varied. */
  variation: boolean;
  /** The simulated clock. */
  clock: SimClock;
  /** Request statistics. */
  stats: StatsRecorder;
  /** Fault configuration. */
  faults: Faults;
  /** The real rate limit. */
  bucket: TokenBucket;
  /** The daily export files. */
  exports: ExportFiles;
}

/** The control API handler: `(request, path) → response`. */
export function createControl(
  deps: ControlDeps,
): (req: Request, path: string) => Promise<Response> {
  const { catalog, clock, stats, faults, bucket, exports } = deps;
  return async (req, path) => {
    const readBody = async (): Promise<unknown> => {
      const text = await req.text();
      if (text.trim() === "") return {};
      return JSON.parse(text);
    };
    const bad = (error: unknown) =>
      jsonResponse({
        error: error instanceof z.ZodError
          ? error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")
          : error instanceof SyntaxError
          ? `invalid JSON body: ${error.message}`
          : (error as Error).message,
      }, 400);
    try {
      switch (`${req.method} ${path}`) {
        case "GET /__control/health":
          return jsonResponse({
            ok: true,
            size: catalog.size,
            seed: catalog.seed,
            anchor: isoDay(catalog.anchorDay),
            now: clock.now().toISOString(),
            variation: deps.variation,
            additionsRate: catalog.lifecycle.additionsRate,
            deletionsRate: catalog.lifecycle.deletionsRate,
            movies: catalog.countAt(clock.nowMs()),
          });
        case "GET /__control/stats":
          return jsonResponse(stats.snapshot(clock.now()));
        case "POST /__control/reset":
          await req.body?.cancel();
          stats.reset();
          return jsonResponse({ ok: true });
        case "GET /__control/faults":
          return jsonResponse(faults.config);
        case "POST /__control/faults": {
          const parsed = faultConfigSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          faults.set(parsed.data);
          return jsonResponse({ ok: true, faults: faults.config });
        }
        case "GET /__control/clock":
          return jsonResponse({ now: clock.now().toISOString() });
        case "POST /__control/clock": {
          const parsed = clockSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          if ("now" in parsed.data) clock.setNow(parsed.data.now);
          else clock.advance(parsed.data.advanceMs);
          return jsonResponse({ now: clock.now().toISOString() });
        }
        case "POST /__control/rate-limit": {
          const parsed = rateLimitSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          bucket.set(parsed.data.perSecond);
          return jsonResponse({ ok: true, perSecond: bucket.perSecond });
        }
        case "GET /__control/exports":
          return jsonResponse({ ...exports.settings(), available: exports.available() });
        case "POST /__control/exports": {
          const parsed = exportsSchema.safeParse(await readBody());
          if (!parsed.success) return bad(parsed.error);
          exports.update(parsed.data);
          return jsonResponse({ ok: true, ...exports.settings() });
        }
        default:
          await req.body?.cancel();
          return jsonResponse({ error: `unknown control route: ${req.method} ${path}` }, 404);
      }
    } catch (error) {
      return bad(error);
    }
  };
}
