/**
 * One way to say what failed a zod schema: `path: message` pairs joined by `; `, with the
 * path written as in JavaScript (`tmdb_ids[3]`, `finished.retried`).
 *
 * @module
 */

import type { z } from "zod";

/** `["a", 0, "b"]` → `a[0].b`; the empty path → `root`. */
export function issuePath(path: readonly (string | number)[], root: string): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : out === "" ? key : `.${key}`;
  }
  return out === "" ? root : out;
}

/**
 * The issues of `error` as `path: message; …` (at most `max`, then how many more). An issue
 * at the root is named `root` (e.g. `body` for a request body).
 *
 * @example
 * describeIssues(error, { root: "body" }); // "tmdb_ids[3]: Expected number, received string"
 */
export function describeIssues(
  error: z.ZodError,
  options: { max?: number; root?: string } = {},
): string {
  const { max = 20, root = "(root)" } = options;
  const parts = error.issues.slice(0, max).map((issue) =>
    `${issuePath(issue.path, root)}: ${issue.message}`
  );
  const more = error.issues.length - parts.length;
  return parts.join("; ") + (more > 0 ? `; and ${more} more problem(s)` : "");
}
