/**
 * A scripted {@link WorkerQueue} for refresh-worker's handler tests: it hands out the
 * claimable items in the order given and records every step. It keeps no queue rule of its
 * own (claim order, leases, attempt caps and backoff are tested against
 * `public.refresh_worker_step` in pgTAP and the integration tests): an item is claimed at
 * most once, an answered item counts as completed, an item without an answer as retried.
 *
 * @module
 */

import type { StoreOutcome, TmdbAnswer } from "../store/catalog.ts";
import type {
  ClaimedItem,
  Continuation,
  ContinueOptions,
  StepOptions,
  StepResult,
  WorkerItem,
  WorkerQueue,
} from "../store/refresh_queue.ts";
import type { Drift } from "../tmdb/policy.ts";

/** One recorded step. */
export interface RecordedStep {
  /** The worker id. */
  worker: string;
  /** The items handed back (answers with their bodies). */
  items: WorkerItem[];
  /** The options, including the claim size asked for. */
  options: StepOptions;
  /** The items claimed. */
  claimed: ClaimedItem[];
}

/** Options of {@link createScriptedWorkerQueue}. */
export interface ScriptedWorkerQueueOptions {
  /** The stored outcome of an answered item. Default: 200 → refreshed (`updated`), 404 → `not_found`. */
  stored?: (item: WorkerItem & { answer: TmdbAnswer }) => {
    outcome: StoreOutcome;
    error?: string;
  };
  /** The drift each step reports. Default `{}`. */
  drift?: Drift;
  /** Make a step reject (the database failed) when this returns an error. */
  failStep?: (stepNumber: number) => Error | undefined;
  /** What `continueRun` answers. Default: queued when items remain, else `queue_empty`. */
  continuation?: (options: ContinueOptions) => Continuation;
}

/** A {@link WorkerQueue} that records its steps. */
export interface ScriptedWorkerQueue extends WorkerQueue {
  /** Every step, in order. */
  readonly steps: RecordedStep[];
  /** The items not claimed yet. */
  readonly remaining: ClaimedItem[];
  /** Every `continueRun` call. */
  readonly continuations: ContinueOptions[];
}

/** Creates a queue holding `tmdbIds` (queue ids 1, 2, …, attempt 1). */
export function createScriptedWorkerQueue(
  tmdbIds: readonly number[],
  options: ScriptedWorkerQueueOptions = {},
): ScriptedWorkerQueue {
  const remaining: ClaimedItem[] = tmdbIds.map((tmdb_id, i) => ({
    queue_id: i + 1,
    work_id: 1000 + i,
    tmdb_id,
    attempt: 1,
  }));
  const steps: RecordedStep[] = [];
  const continuations: ContinueOptions[] = [];
  const tmdbIdOf = new Map(remaining.map((c) => [c.queue_id, c.tmdb_id]));
  return {
    steps,
    remaining,
    continuations,
    continueRun(continueOptions) {
      continuations.push(continueOptions);
      return Promise.resolve(
        options.continuation?.(continueOptions) ??
          (remaining.length > 0
            ? { continued: true, reason: "queued", request_id: continuations.length }
            : { continued: false, reason: "queue_empty" }),
      );
    },
    step(worker, items, stepOptions) {
      const failure = options.failStep?.(steps.length + 1);
      if (failure) return Promise.reject(failure);
      const result: StepResult = {
        stored: [],
        drift: structuredClone(options.drift ?? {}),
        finished: { completed: 0, retried: 0, failed: 0, lost_lease: 0 },
        claimed: [],
      };
      for (const item of items) {
        if (!("answer" in item)) {
          result.finished.retried++;
          continue;
        }
        const stored = options.stored?.(item) ??
          { outcome: item.answer.status === 404 ? "not_found" : "updated" };
        result.stored.push({
          queue_id: item.queue_id,
          tmdb_id: tmdbIdOf.get(item.queue_id) ?? item.answer.tmdb_id,
          work_id: stored.outcome === "failed" ? null : 1,
          ...stored,
          ...(stored.outcome === "failed" ? { kind: "invalid_response" as const } : {}),
        });
        if (stored.outcome === "failed") result.finished.retried++;
        else result.finished.completed++;
      }
      result.claimed = remaining.splice(0, stepOptions.batchSize);
      steps.push({ worker, items: [...items], options: stepOptions, claimed: result.claimed });
      return Promise.resolve(result);
    },
    stats() {
      return Promise.resolve({ pending: remaining.length });
    },
  };
}
