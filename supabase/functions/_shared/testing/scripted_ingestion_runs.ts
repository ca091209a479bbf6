/**
 * A scripted {@link IngestionRunStore} for scheduled-ingest's handler tests: `classify`
 * answers the states the test gives, `start` and `finish` are recorded. It keeps no rule of
 * its own (a run id used twice, the freshness states: SQL, tested in pgTAP).
 *
 * @module
 */

import type {
  FreshnessState,
  IngestionRunFinish,
  IngestionRunStart,
  IngestionRunStatus,
  IngestionRunStore,
} from "../store/ingestion_runs.ts";

/** A run row kept by a {@link ScriptedIngestionRunStore}. */
export interface RecordedIngestionRun extends IngestionRunStart {
  /** Row id (1, 2, …). */
  id: number;
  /** `running` until finished. */
  status: IngestionRunStatus | "running";
  /** The finish call, once made. */
  finished: IngestionRunFinish | null;
}

/** Options for {@link createScriptedIngestionRunStore}. */
export interface ScriptedIngestionRunStoreOptions {
  /** State of each id; ids not listed are `new`. */
  states?: Iterable<[number, FreshnessState]>;
  /** Make `start`, `finish` or `classify` reject (a database failure). */
  failOn?: ("start" | "finish" | "classify")[];
  /** What `start` rejects with, e.g. an error with `code: "23505"` (a run id used twice). */
  startError?: Error;
}

/** An {@link IngestionRunStore} that records its calls. */
export interface ScriptedIngestionRunStore extends IngestionRunStore {
  /** Freshness by TMDB id (ids not present are `new`); tests may change it. */
  readonly states: Map<number, FreshnessState>;
  /** Run rows by run id. */
  readonly runs: Map<string, RecordedIngestionRun>;
  /** The ids of each `classify` call, in order. */
  readonly classifyCalls: number[][];
}

/** Creates a {@link ScriptedIngestionRunStore}. */
export function createScriptedIngestionRunStore(
  options: ScriptedIngestionRunStoreOptions = {},
): ScriptedIngestionRunStore {
  const states = new Map(options.states ?? []);
  const runs = new Map<string, RecordedIngestionRun>();
  const classifyCalls: number[][] = [];
  const failOn = new Set(options.failOn ?? []);
  let nextId = 1;
  const fail = (what: string) => Promise.reject(new Error(`${what}: simulated database failure`));
  return {
    states,
    runs,
    classifyCalls,
    classify(tmdbIds) {
      classifyCalls.push([...tmdbIds]);
      if (failOn.has("classify")) return fail("public.classify_tmdb_ids");
      return Promise.resolve(new Map(tmdbIds.map((id) => [id, states.get(id) ?? "new"])));
    },
    start(run) {
      if (failOn.has("start")) return fail("public.start_ingestion_run");
      if (options.startError) return Promise.reject(options.startError);
      const row: RecordedIngestionRun = { ...run, id: nextId++, status: "running", finished: null };
      runs.set(run.runId, row);
      return Promise.resolve(row.id);
    },
    finish(run) {
      if (failOn.has("finish")) return fail("public.finish_ingestion_run");
      const row = runs.get(run.runId);
      if (!row) return Promise.reject(new Error(`run ${run.runId} was never started`));
      row.status = run.status;
      row.finished = structuredClone(run);
      return Promise.resolve();
    },
  };
}
