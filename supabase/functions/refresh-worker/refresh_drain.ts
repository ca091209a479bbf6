/**
 * Draining `public.refresh_queue` within a run's budgets: several batch loops at once, each
 * claiming a batch, fetching its movies' details from TMDB concurrently (their text is not
 * parsed here) and handing the answers to one `refresh_worker_step` call that stores them,
 * finishes the batch and claims the next. docs/functions.md describes the run, its budgets
 * and its stop reasons.
 *
 * @module
 */

import type { Clock } from "../_shared/platform/clock.ts";
import type { CpuMeter } from "../_shared/platform/cpu_meter.ts";
import { fetchAnswer } from "../_shared/sync/ingest.ts";
import type { ClaimedItem, WorkerItem, WorkerQueue } from "../_shared/store/refresh_queue.ts";
import type { TmdbClient } from "../_shared/tmdb/client.ts";
import { type Drift, mergeDrift } from "../_shared/tmdb/policy.ts";
import { type BreakerTrip, TmdbRunGuard, tmdbUnauthorizedMessage } from "../_shared/tmdb/outage.ts";
import { redactString } from "../_shared/platform/redact.ts";

/** Why a drain stopped. */
export type StoppedBecause =
  | "queue_empty"
  | "budget"
  | "cpu_budget"
  | "tmdb_unauthorized"
  | "tmdb_unavailable";

/** A failed item, as echoed in the summary. */
export interface ItemError {
  /** Queue row id. */
  queue_id: number;
  /** TMDB id. */
  tmdb_id: number;
  /** The attempt that failed. */
  attempt: number;
  /** What went wrong. */
  error: string;
}

/** What a drain did. */
export interface DrainReport {
  /** Batches claimed (non-empty). */
  batches: number;
  /** Items claimed. */
  claimed: number;
  /** Items whose movie was inserted or updated. */
  refreshed: number;
  /** Items whose movie had not changed. */
  unchanged: number;
  /** Items whose movie TMDB no longer knows (marked not found, completed). */
  notFound: number;
  /** Failed items the queue will try again. */
  retried: number;
  /** Failed items the queue gave up on. */
  failed: number;
  /** Results the queue ignored because the lease was lost. */
  lostLease: number;
  /** TMDB calls made (one per item; the client's HTTP retries are not counted). */
  tmdbRequests: number;
  /** What the payload policy defaulted in the stored movies. */
  drift: Drift;
  /** Up to {@link MAX_ITEM_ERRORS} failed items. */
  itemErrors: ItemError[];
  /** Why the drain stopped. */
  stoppedBecause: StoppedBecause;
  /** The error of a run stopped by TMDB (`tmdb_unauthorized` / `tmdb_unavailable`). */
  stop: { error: "tmdb_unauthorized" | "tmdb_unavailable"; message: string } | null;
}

/** What a drain needs. */
export interface DrainDeps {
  /** The queue. */
  queue: WorkerQueue;
  /** The TMDB client (only `movieDetailsText` is used). */
  tmdb: Pick<TmdbClient, "movieDetailsText">;
  /** Time for the wall-clock budget. */
  clock: Clock;
  /** CPU used by the run so far. */
  cpu: CpuMeter;
  /** Secret values to keep out of item errors. */
  secrets: readonly string[];
}

/** How a drain runs. */
export interface DrainOptions {
  /** `locked_by` of the claimed rows. */
  worker: string;
  /** The run (drift is recorded under it). */
  runId: string;
  /** Items claimed per batch. */
  batchSize: number;
  /** Seconds each claim is held. */
  leaseSeconds: number;
  /** Batch loops run at once. */
  loops: number;
  /** Epoch ms (on `clock`): no batch starts that could not end before it; no TMDB call runs past it. */
  deadline: number;
  /** Least wall time left to start a batch. */
  minBatchMs: number;
  /** CPU (ms) after which no batch is started. */
  cpuBudgetMs: number;
  /** Outage failures in a row that stop the drain. */
  breakerThreshold: number;
}

/** Most item errors kept in a {@link DrainReport}. */
export const MAX_ITEM_ERRORS = 20;

/**
 * Estimated function CPU per movie and per batch (used only where the runtime cannot report
 * its CPU): several times what `npm run bench` measures, so the estimate errs early.
 */
export const ESTIMATED_CPU_MS = { perMovie: 1.5, perBatch: 3 } as const;

/**
 * The CPU one movie costs, as this run has measured it so far (`spentMs` over `movies` done):
 * before the first batch is done, {@link ESTIMATED_CPU_MS}'s per-movie estimate.
 *
 * @example
 * cpuPerMovieMs(0, 0);    // 1.5 (the estimate)
 * cpuPerMovieMs(120, 40); // 3
 */
export function cpuPerMovieMs(spentMs: number, movies: number): number {
  return movies > 0 ? Math.max(0, spentMs) / movies : ESTIMATED_CPU_MS.perMovie;
}

/**
 * The message of a run stopped because TMDB kept failing (also the error of the items that
 * were in flight when it stopped).
 *
 * @example
 * tmdbUnavailableMessage({ failures: 10, kind: "network", message: "TMDB GET /movie/7 failed: …" });
 * // "TMDB is unreachable or failing: 10 items in a row failed (network: TMDB GET /movie/7
 * //  failed: …); the run stopped early so the rest of the queue keeps its attempts"
 */
export function tmdbUnavailableMessage(trip: BreakerTrip): string {
  return `TMDB is unreachable or failing: ${trip.failures} items in a row failed ` +
    `(${trip.kind}: ${trip.message}); the run stopped early so the rest of the queue keeps ` +
    `its attempts`;
}

/** Drains the queue until it is empty, a budget is spent, or TMDB stops the run. */
export async function drainQueue(deps: DrainDeps, options: DrainOptions): Promise<DrainReport> {
  const { queue, clock, cpu, secrets } = deps;
  const report: DrainReport = {
    batches: 0,
    claimed: 0,
    refreshed: 0,
    unchanged: 0,
    notFound: 0,
    retried: 0,
    failed: 0,
    lostLease: 0,
    tmdbRequests: 0,
    drift: {},
    itemErrors: [],
    stoppedBecause: "budget",
    stop: null,
  };
  let queueEmpty = false;
  let cpuSpent = false;
  let fatal: unknown;
  // Stops the run at the first 401 or when the breaker trips: no new batch, no new TMDB
  // call, and the calls in flight end at once.
  const guard = new TmdbRunGuard({ breakerThreshold: options.breakerThreshold });
  const guarded: Pick<TmdbClient, "movieDetailsText"> = {
    movieDetailsText: (id, opts) =>
      guard.call(() => {
        report.tmdbRequests++;
        return deps.tmdb.movieDetailsText(id, opts);
      }),
  };

  /** The error text of an item without an answer: the run's stop reason when it has one. */
  const itemError = (message: string, kind: string): string => {
    const { unauthorized, unavailable } = guard;
    const text = unauthorized !== null && (kind === "unauthorized" || kind === "aborted")
      ? tmdbUnauthorizedMessage(unauthorized)
      : unavailable !== null && kind === "aborted"
      ? tmdbUnavailableMessage(unavailable)
      : `${kind}: ${message}`;
    return redactString(text, secrets).slice(0, 2000);
  };
  const noteError = (item: ClaimedItem, error: string) => {
    if (report.itemErrors.length < MAX_ITEM_ERRORS) {
      report.itemErrors.push({
        queue_id: item.queue_id,
        tmdb_id: item.tmdb_id,
        attempt: item.attempt,
        error,
      });
    }
  };

  let longestBatchMs = 0;
  // CPU the run keeps for work it has claimed: a claim is made only when the batches other
  // loops hold (not yet fetched) and the new batch fit in the budget at the run's measured
  // cost per movie, so a run ends near its budget, not a few batches past it.
  // The run's first batch is claimed whatever the process has used: a process serving a
  // request has more than half of the runtime's CPU limit left (it retires at half), so one
  // batch fits, and a run on a warm process that already used its budget still makes
  // progress instead of handing over an empty run to the next (which could land on the
  // same process again).
  const cpuAtStart = cpu.usedMs();
  let inHand = 0;
  let moviesDone = 0;
  let claims = 0;
  // Whether a loop may start another batch now (checked before each claim).
  const mayStartBatch = (): boolean => {
    if (guard.signal.aborted || fatal !== undefined || queueEmpty) return false;
    const used = cpu.usedMs();
    const reserve = (inHand + options.batchSize) *
      cpuPerMovieMs(used - cpuAtStart, moviesDone);
    if (claims > 0 && used + reserve >= options.cpuBudgetMs) {
      cpuSpent = true;
      return false;
    }
    if (options.deadline - clock.now() < Math.max(options.minBatchMs, longestBatchMs)) {
      return false;
    }
    claims++;
    return true;
  };

  const loop = async (): Promise<void> => {
    if (!mayStartBatch()) return;
    let items = (await queue.step(options.worker, [], {
      runId: options.runId,
      batchSize: options.batchSize,
      leaseSeconds: options.leaseSeconds,
    })).claimed;
    for (;;) {
      if (items.length === 0) {
        queueEmpty = true;
        return;
      }
      inHand += items.length;
      const batchStart = clock.now();
      report.batches++;
      report.claimed += items.length;
      const answered = await Promise.all(items.map(async (item): Promise<WorkerItem> => {
        const fetched = await fetchAnswer(item.tmdb_id, guarded, {
          signal: guard.signal,
          deadline: options.deadline,
        });
        const claimed = { queue_id: item.queue_id, attempt: item.attempt };
        if ("answer" in fetched) return { ...claimed, answer: fetched.answer };
        const error = fetched.failure.error!;
        const text = itemError(error.message, error.kind);
        noteError(item, text);
        // Every failure may be retried: the queue caps attempts (3) and then marks it failed.
        return { ...claimed, error: text, retryable: true };
      }));
      cpu.add(items.length, ESTIMATED_CPU_MS.perMovie);
      cpu.add(1, ESTIMATED_CPU_MS.perBatch);
      inHand -= items.length;
      moviesDone += items.length;
      longestBatchMs = Math.max(longestBatchMs, clock.now() - batchStart);
      // One round trip stores the answers, finishes this batch and claims the next.
      const next = mayStartBatch();
      const step = await queue.step(options.worker, answered, {
        runId: options.runId,
        batchSize: next ? options.batchSize : 0,
        leaseSeconds: options.leaseSeconds,
      });
      for (const stored of step.stored) {
        if (stored.outcome === "inserted" || stored.outcome === "updated") report.refreshed++;
        else if (stored.outcome === "unchanged") report.unchanged++;
        else if (stored.outcome === "not_found") report.notFound++;
        else {
          const item = items.find((i) => i.queue_id === stored.queue_id);
          if (item) {
            noteError(
              item,
              redactString(`${stored.kind}: ${stored.error}`, secrets).slice(0, 2000),
            );
          }
        }
      }
      mergeDrift(report.drift, step.drift);
      report.retried += step.finished.retried;
      report.failed += step.finished.failed;
      report.lostLease += step.finished.lost_lease;
      if (!next) return;
      items = step.claimed;
    }
  };

  await Promise.all(
    Array.from({ length: options.loops }, () =>
      loop().catch((error) => {
        fatal ??= error;
      })),
  );
  if (fatal !== undefined) throw fatal;

  // Why the run stopped (a 401 says more than the breaker: it wins).
  const { unauthorized, unavailable } = guard;
  if (unauthorized !== null) {
    report.stop = { error: "tmdb_unauthorized", message: tmdbUnauthorizedMessage(unauthorized) };
  } else if (unavailable !== null) {
    report.stop = {
      error: "tmdb_unavailable",
      message: redactString(tmdbUnavailableMessage(unavailable), secrets),
    };
  }
  report.stoppedBecause = report.stop?.error ??
    (queueEmpty ? "queue_empty" : cpuSpent ? "cpu_budget" : "budget");
  return report;
}
