/**
 * What every benchmark scenario gets: the bench stack's config and info, database
 * connections, the run's sizes (full or quick), and a progress printer that writes one line
 * per phase on stderr ("inserting 1,000,000 works… 43.2 s").
 *
 * @module
 */
import postgres from "postgres";
import type { StackConfig, StackInfo } from "../lib/stack_config.ts";

/** The sizes of one run (`--quick` uses small ones so it finishes in under a minute). */
export interface BenchSizes {
  /** Works inserted for the stale-movies scenario. */
  works: number;
  /** Timed calls of `get_stale_movies(100)` (and of the indexed naive query). */
  staleReps: number;
  /** Timed calls of the naive full-scan query (slow: fewer). */
  naiveReps: number;
  /** Items in the queue benchmark (ours and graphile-worker each). */
  queueItems: number;
  /** Movies refreshed through refresh-worker, per run (no faults, then with faults). */
  refreshMovies: number;
  /** Distinct movies of the ingest-cost scenario. */
  ingestMovies: number;
  /**
   * Whether scenario 5 measures one real full-budget invocation (full run) or derives the
   * figure from scenario 3's rate (quick run).
   */
  realInvocation: boolean;
  /** TMDB stand-in catalog size (must hold every movie the refresh scenarios use). */
  standinSize: number;
}

/** Full and quick sizes, as the issue states them. */
export const SIZES: Record<"full" | "quick", BenchSizes> = {
  full: {
    works: 1_000_000,
    staleReps: 200,
    naiveReps: 10,
    queueItems: 20_000,
    refreshMovies: 2_000,
    ingestMovies: 500,
    realInvocation: true,
    // Scenarios 6 and 7 take 42,000 ids nobody used from its export.
    standinSize: 60_000,
  },
  quick: {
    works: 20_000,
    staleReps: 30,
    naiveReps: 5,
    queueItems: 2_000,
    refreshMovies: 150,
    ingestMovies: 50,
    realInvocation: false,
    standinSize: 3_000,
  },
};

/** Prints progress on stderr: one line per phase, with its duration. */
export class Progress {
  #write: (text: string) => void;
  #now: () => number;

  /** Writes to stderr unless told otherwise (tests pass their own writer and clock). */
  constructor(
    options: { write?: (text: string) => void; now?: () => number } = {},
  ) {
    const enc = new TextEncoder();
    this.#write = options.write ?? ((t) => Deno.stderr.writeSync(enc.encode(t)));
    this.#now = options.now ?? (() => performance.now());
  }

  /** A line of its own: `[bench] text`. */
  note(text: string): void {
    this.#write(`[bench] ${text}\n`);
  }

  /**
   * Runs `fn` as one phase: prints `[bench] label… ` first and completes the line with the
   * elapsed time (and `detail(result)` when given) when it ends, or `failed after …`.
   */
  async phase<T>(label: string, fn: () => Promise<T>, detail?: (result: T) => string): Promise<T> {
    this.#write(`[bench] ${label}… `);
    const t0 = this.#now();
    try {
      const result = await fn();
      const extra = detail ? detail(result) : "";
      this.#write(`${seconds(this.#now() - t0)}${extra ? `, ${extra}` : ""}\n`);
      return result;
    } catch (e) {
      this.#write(`failed after ${seconds(this.#now() - t0)}\n`);
      throw e;
    }
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Everything a scenario needs. */
export interface BenchContext {
  /** The bench stack. */
  cfg: StackConfig;
  /** URLs and keys of the running bench stack. */
  info: StackInfo;
  /** Whether this is the quick run. */
  quick: boolean;
  /** Sizes of this run. */
  sizes: BenchSizes;
  /** Pool as `postgres` (the role migrations and Edge Functions use). */
  sql: postgres.Sql;
  /** Pool as the stack's superuser `supabase_admin` (cron, stats). */
  admin: postgres.Sql;
  /** Progress printer. */
  progress: Progress;
}

/** Opens a postgres.js pool that ignores notices. */
export function connect(url: string, max: number): postgres.Sql {
  return postgres(url, { max, onnotice: () => {}, idle_timeout: 30, connect_timeout: 30 });
}
