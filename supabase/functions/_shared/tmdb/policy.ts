/**
 * The TMDB payload policy for the responses a function reads itself (list pages, the
 * change feed, error bodies). Movie details are never parsed in a function: their text goes
 * to Postgres, where `public.tmdb_movie_fields()` / `public.tmdb_movie_drift()` apply the
 * same policy (migration 025).
 *
 * The policy: a field is essential only when its row cannot exist without it (an item's
 * `id`); every other field is optional, and when it is missing, `null` (where TMDB does not
 * document null), or of another JSON type, it takes its default and is counted as drift by
 * path and kind. Keys the policy does not know are counted as `unknown`. docs/schema.md
 * lists every field.
 *
 * @module
 */

/** The JSON types a field may have (`integer` is a whole number within Postgres `integer`). */
export type JsonType = "string" | "integer" | "number" | "boolean" | "array" | "object";

/** One field of a shape. */
export interface FieldRule {
  /** The type TMDB documents. */
  type: JsonType;
  /** `null` is a normal value (not counted). */
  nullable?: boolean;
  /** Leaving the key out is normal (not counted). */
  optional?: boolean;
  /** The row cannot exist without it (an essential problem drops or fails the row). */
  essential?: boolean;
}

/**
 * A shape: for each container path (`""` is the document, `results[]` the elements of
 * `results`), its fields; an array container has the single field `[]` typing its elements.
 */
export type ShapeRules = Readonly<Record<string, Readonly<Record<string, FieldRule>>>>;

/** What was defaulted, by normalised path and kind: `{"results[].title": {"missing": 2}}`. */
export type Drift = Record<string, Record<string, number>>;

/** Kinds of drift: exactly those `public.tmdb_payload_drift` accepts. */
export const DRIFT_KINDS = ["missing", "null", "wrong_type", "unknown"] as const;

/** A kind of drift. */
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** An essential field that is unusable, with its indexed path (e.g. `results[3].id`). */
export interface EssentialProblem {
  /** Indexed path. */
  path: string;
  /** What is wrong. */
  kind: DriftKind | "out_of_range";
}

/** What {@link inspectShape} found. */
export interface Inspection {
  /** Non-essential problems, counted. */
  drift: Drift;
  /** Essential problems, in document order. */
  essential: EssentialProblem[];
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The range of Postgres `integer`, where every `integer` field is stored. */
const INT4 = { min: -2_147_483_648, max: 2_147_483_647 } as const;

/**
 * Whether `value` has JSON type `type`: an `integer` is a whole number within Postgres
 * `integer` (as in the SQL policy, `public.tmdb_type_ok`).
 */
export function hasType(value: unknown, type: JsonType): boolean {
  if (type === "integer") {
    return Number.isInteger(value) && (value as number) >= INT4.min &&
      (value as number) <= INT4.max;
  }
  return typeOf(value) === type;
}

function count(drift: Drift, path: string, kind: string, n = 1): void {
  const kinds = drift[path] ??= {};
  kinds[kind] = (kinds[kind] ?? 0) + n;
}

/**
 * Applies `rules` to `document`: counts every non-essential problem by path and kind and
 * lists every essential one. Only known containers of the right type are walked.
 */
export function inspectShape(document: unknown, rules: ShapeRules): Inspection {
  const drift: Drift = {};
  const essential: EssentialProblem[] = [];
  const join = (base: string, key: string) => (base === "" ? key : `${base}.${key}`);

  const walk = (value: unknown, npath: string, ipath: string): void => {
    const fields = rules[npath];
    if (fields === undefined) return;
    const element = fields["[]"];
    if (element !== undefined) {
      if (!Array.isArray(value)) return;
      value.forEach((item, i) => {
        check(item, element, `${npath}[]`, `${ipath}[${i}]`);
      });
      return;
    }
    if (typeOf(value) !== "object") return;
    const object = value as Record<string, unknown>;
    for (const [key, rule] of Object.entries(fields)) {
      if (!(key in object)) {
        if (!rule.optional || rule.essential) {
          report(rule, join(npath, key), join(ipath, key), "missing");
        }
      } else check(object[key], rule, join(npath, key), join(ipath, key));
    }
    for (const key of Object.keys(object)) {
      if (!(key in fields)) count(drift, join(npath, key), "unknown");
    }
  };

  const report = (rule: FieldRule, npath: string, ipath: string, kind: DriftKind) => {
    if (rule.essential) essential.push({ path: ipath, kind });
    else count(drift, npath, kind);
  };

  const check = (value: unknown, rule: FieldRule, npath: string, ipath: string): void => {
    if (value === null) {
      if (!rule.nullable || rule.essential) report(rule, npath, ipath, "null");
      return;
    }
    if (!hasType(value, rule.type)) {
      report(rule, npath, ipath, "wrong_type");
      return;
    }
    if (rule.essential && rule.type === "integer" && !((value as number) >= 1)) {
      essential.push({ path: ipath, kind: "out_of_range" });
      return;
    }
    walk(value, npath, ipath);
  };

  walk(document, "", "");
  return { drift, essential };
}

/** Adds every count of `more` into `into` (and returns `into`). */
export function mergeDrift(into: Drift, more: Drift): Drift {
  for (const [path, kinds] of Object.entries(more)) {
    for (const [kind, n] of Object.entries(kinds)) count(into, path, kind, n);
  }
  return into;
}

/** `drift` with every path prefixed, e.g. `list:` for list pages. */
export function prefixDrift(drift: Drift, prefix: string): Drift {
  const out: Drift = {};
  for (const [path, kinds] of Object.entries(drift)) out[`${prefix}${path}`] = { ...kinds };
  return out;
}

/** Whether `drift` counts anything. */
export function hasDrift(drift: Drift): boolean {
  return Object.keys(drift).length > 0;
}
