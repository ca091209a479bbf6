/**
 * Deterministic fault injection: the knobs (`FaultConfig`, validated with zod), the seeded
 * sequence of draws (two per authorised API request, always, so how many faults of each kind
 * N requests get depends only on N and the seed), what each draw means for a request (hang,
 * 5xx, 429, malformed JSON, or nothing), and the movie ids answered 404 as if deleted.
 *
 * @module
 */

import { z } from "zod";
import { type Answer, TMDB_ERRORS, tmdbError } from "./http.ts";
import { mulberry32, unit4 } from "./random.ts";
import { rateLimitError } from "./rate_limit.ts";

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

/** What the draws decided for one request. */
export type FaultPlan =
  | { kind: "none" }
  | { kind: "hang"; ms: number | null }
  | { kind: "5xx"; answer: Answer }
  | { kind: "429"; answer: Answer }
  | { kind: "malformed" };

const BAD_GATEWAY_HTML =
  "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n";

/** The current fault configuration and its draw sequence. */
export class Faults {
  #config: FaultConfig = {};
  #random = mulberry32(1);
  #notFoundIds = new Set<number>();

  /** Starts with `config` (validated). */
  constructor(config: FaultConfig = {}) {
    this.set(config);
  }

  /** Replaces the configuration (validated; throws on bad values) and restarts the draws. */
  set(next: FaultConfig): void {
    const parsed = faultConfigSchema.parse(next);
    this.#config = parsed;
    this.#random = mulberry32(parsed.seed ?? 1);
    this.#notFoundIds = new Set(parsed.notFoundIds ?? []);
  }

  /** The configuration as set (shared object: do not modify). */
  get config(): FaultConfig {
    return this.#config;
  }

  /** The two draws of one authorised request. */
  draw(): [u: number, v: number] {
    return [this.#random(), this.#random()];
  }

  /** Whether movie `id` is answered 404 as if deleted (listed, or drawn by `notFoundRate`). */
  notFound(id: number): boolean {
    const c = this.#config;
    return this.#notFoundIds.has(id) ||
      (c.notFoundRate !== undefined && unit4(c.seed ?? 1, id, 0, 0x404) < c.notFoundRate);
  }

  /**
   * What draws `u`, `v` mean for a request, in this order: hang, 5xx, 429, malformed JSON
   * (each takes its share of [0, 1) in turn). `perSecond` names the limit in 429 messages.
   */
  plan(u: number, v: number, perSecond: number | null): FaultPlan {
    const c = this.#config;
    let x = u;
    const hangRate = c.hangRate ?? 0;
    if (x < hangRate) return { kind: "hang", ms: c.hangMs ?? null };
    x -= hangRate;
    const errorRate = c.errorRate5xx ?? 0;
    if (x < errorRate) {
      if (v < 0.4) return { kind: "5xx", answer: tmdbError(TMDB_ERRORS.internal) };
      if (v < 0.6) {
        return {
          kind: "5xx",
          answer: { kind: "raw", status: 502, contentType: "text/html", text: BAD_GATEWAY_HTML },
        };
      }
      if (v < 0.8) return { kind: "5xx", answer: tmdbError(TMDB_ERRORS.offline) };
      return { kind: "5xx", answer: tmdbError(TMDB_ERRORS.backendTimeout) };
    }
    x -= errorRate;
    const rate429 = c.rate429 ?? 0;
    if (x < rate429) {
      const headers: Record<string, string> = {};
      if (c.retryAfterSeconds !== null) headers["retry-after"] = String(c.retryAfterSeconds ?? 1);
      return { kind: "429", answer: tmdbError(rateLimitError(perSecond), headers) };
    }
    x -= rate429;
    if (x < (c.malformedJsonRate ?? 0)) return { kind: "malformed" };
    return { kind: "none" };
  }
}
