/**
 * Pieces of the request-body schemas the functions share, so every function words the same
 * field the same way: {@link intInRange} for bounded integers, {@link runFields} for the
 * `run_id` / `trigger` / `job_name` that `invoke_edge_function()` adds to every call, and
 * {@link bodyObject} for the strict JSON object around them.
 *
 * @module
 */

import { z } from "zod";

/**
 * An integer in `[min, max]` whose every failure (wrong type, fraction, out of range) reads
 * `<name> must be an integer between <min> and <max>: current value is <value>`.
 *
 * @example
 * intInRange("limit", 1, 200).default(30);
 * // { limit: 0 } → "limit must be an integer between 1 and 200: current value is 0"
 */
export function intInRange(name: string, min: number, max: number): z.ZodNumber {
  return z.number({
    errorMap: (_issue, ctx) => ({
      message: `${name} must be an integer between ${min} and ${max}: current value is ${
        JSON.stringify(ctx.data) ?? "undefined"
      }`,
    }),
  }).int().min(min).max(max);
}

/** Most characters of `job_name` (the pg_cron job's name). */
export const MAX_JOB_NAME_LENGTH = 100;

/**
 * The fields identifying a run, accepted by every cron-called function (spread them last
 * into the body's shape):
 * - `run_id`: uuid, optional (the function makes one when absent);
 * - `trigger`: `"cron"` | `"manual"`, default `"manual"`;
 * - `job_name`: string of at most 100 characters, `null` or absent.
 */
export const runFields = {
  run_id: z.string().uuid("run_id must be a uuid").optional(),
  trigger: z.enum(["cron", "manual"], {
    errorMap: () => ({ message: "trigger must be 'cron' or 'manual'" }),
  }).default("manual"),
  job_name: z.string().max(
    MAX_JOB_NAME_LENGTH,
    `job_name must be at most ${MAX_JOB_NAME_LENGTH} characters`,
  ).nullable().optional(),
};

/**
 * A request body: a JSON object with exactly the keys of `shape` (unknown keys are refused,
 * naming them; a non-object reads `Expected a JSON object`).
 */
export function bodyObject<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape, { invalid_type_error: "Expected a JSON object" }).strict();
}
