/**
 * Single and combined mutations of a JSON payload, for property tests of code that reads
 * TMDB payloads: every non-essential key path dropped, set to null, or retyped; every
 * essential one dropped or nulled; and seeded random combinations of k mutations.
 *
 * Paths are normalised: object keys joined with `.`, array elements written `[]`
 * (`credits.cast[].character`); a mutation at a normalised path changes every occurrence
 * (every cast member) unless `occurrences: "first"` is asked for. Concrete paths name one
 * value (`credits.cast[3].character`). TMDB's keys are identifiers, so keys holding `.` or
 * `[` are not supported.
 *
 * Pure: the input is never modified; every variant is a fresh copy.
 *
 * @module
 */

import { mulberry32 } from "./random.ts";

/**
 * The fields a movie row cannot exist without: a payload missing one of them (where its
 * container is present) must fail that movie. Everything else in a details payload may be
 * missing, null, empty or of another type. Each path is an essential *value*; the
 * containers (`genres`, `credits.cast`, …) are not essential themselves.
 */
export const ESSENTIAL_DETAIL_PATHS = [
  "id",
  "genres[].id",
  "credits.cast[].id",
  "credits.cast[].credit_id",
  "credits.crew[].id",
  "credits.crew[].credit_id",
  "videos.results[].key",
  "videos.results[].site",
  "release_dates.results[].iso_3166_1",
  "release_dates.results[].release_dates[].type",
] as const;

/** Essential paths of a list page (`/movie/popular`, `/movie/now_playing`, trending). */
export const ESSENTIAL_LIST_PAGE_PATHS = [
  "page",
  "results",
  "results[].id",
  "total_pages",
  "total_results",
] as const;

/** Essential paths of a `/movie/changes` page. */
export const ESSENTIAL_CHANGES_PAGE_PATHS = ESSENTIAL_LIST_PAGE_PATHS;

/** Types a value can be retyped to (`null` is its own mutation kind). */
export const RETYPE_TARGETS = ["string", "number", "boolean", "object", "array"] as const;

/** One of {@link RETYPE_TARGETS}. */
export type RetypeTarget = (typeof RETYPE_TARGETS)[number];

/** What a mutation does to the value at its path. */
export type MutationKind = "drop" | "null" | "retype";

/** One mutation: a kind at a normalised path. */
export interface Mutation {
  /** Normalised path, e.g. `credits.cast[].character`. */
  path: string;
  /** `drop` removes the key, `null` sets it to null, `retype` converts it to `to`. */
  kind: MutationKind;
  /** Target type of a `retype`. */
  to?: RetypeTarget;
  /** Whether `path` is in the essential list the enumeration was given. */
  essential: boolean;
}

/** A mutated copy of a payload with what was done to it. */
export interface MutatedPayload {
  /** The mutations applied, in order. */
  mutations: Mutation[];
  /** Readable label, e.g. `drop credits.cast[].character + retype runtime to string`. */
  label: string;
  /** Concrete paths of every value changed, e.g. `credits.cast[0].character`. */
  changed: string[];
  /** The mutated copy. */
  payload: unknown;
}

/** Options shared by the enumerators. */
export interface MutationOptions {
  /** Essential paths (default {@link ESSENTIAL_DETAIL_PATHS}). */
  essential?: readonly string[];
  /** Change every occurrence of a path (default) or only the first one. */
  occurrences?: "all" | "first";
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `credits.cast[3].character` → `credits.cast[].character`. */
export function normalisePath(concrete: string): string {
  return concrete.replace(/\[\d+\]/g, "[]");
}

/**
 * Every normalised key path of a payload (object keys at every depth), parents before
 * children, in first-seen order. `{a: [{b: 1}], c: null}` → `["a", "a[].b", "c"]`.
 */
export function keyPaths(payload: unknown): string[] {
  const seen = new Set<string>();
  const walk = (node: unknown, prefix: string) => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, `${prefix}[]`);
    } else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        const path = prefix === "" ? key : `${prefix}.${key}`;
        seen.add(path);
        walk(value, path);
      }
    }
  };
  walk(payload, "");
  return [...seen];
}

/** Splits a normalised path into keys and `[]` markers: `a.b[].c` → `a`, `b`, `[]`, `c`. */
function segments(path: string): string[] {
  if (path === "") throw new Error("a mutation path must not be empty");
  const out: string[] = [];
  for (const part of path.split(".")) {
    const m = /^([^[\]]*)((?:\[\])*)$/.exec(part);
    if (m === null || (m[1] === "" && out.length > 0)) {
      throw new Error(`not a normalised key path: ${JSON.stringify(path)}`);
    }
    if (m[1] !== "") out.push(m[1]);
    for (let i = 0; i < m[2].length / 2; i++) out.push("[]");
  }
  if (out.at(-1) === "[]") {
    throw new Error(`a key path must end with a key, not []: ${JSON.stringify(path)}`);
  }
  return out;
}

/**
 * Calls `visit(parent, key, concretePath)` for every object holding the path's last key
 * (whether or not the key is present), in document order.
 */
function forEachHolder(
  root: unknown,
  path: string,
  visit: (parent: JsonObject, key: string, concrete: string) => void,
): void {
  const segs = segments(path);
  const walk = (node: unknown, i: number, concrete: string) => {
    const seg = segs[i];
    if (seg === "[]") {
      if (!Array.isArray(node)) return;
      node.forEach((item, n) => walk(item, i + 1, `${concrete}[${n}]`));
      return;
    }
    if (!isObject(node)) return;
    const here = concrete === "" ? seg : `${concrete}.${seg}`;
    if (i === segs.length - 1) visit(node, seg, here);
    else if (Object.hasOwn(node, seg)) walk(node[seg], i + 1, here);
  };
  walk(root, 0, "");
}

/** Whether any object in `payload` has the key at `path`. */
export function hasPath(payload: unknown, path: string): boolean {
  let found = false;
  forEachHolder(payload, path, (parent, key) => {
    if (Object.hasOwn(parent, key)) found = true;
  });
  return found;
}

/**
 * Concrete paths where an essential value is missing or null although its container is
 * present, e.g. `["credits.cast[4].credit_id"]`. Empty when the payload has them all.
 */
export function missingEssentials(
  payload: unknown,
  essential: readonly string[] = ESSENTIAL_DETAIL_PATHS,
): string[] {
  const out: string[] = [];
  for (const path of essential) {
    forEachHolder(payload, path, (parent, key, concrete) => {
      if (!Object.hasOwn(parent, key) || parent[key] === null) out.push(concrete);
    });
  }
  return out;
}

/** The JSON type of a value. */
function typeOf(value: unknown): RetypeTarget | "null" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  const t = typeof value;
  if (t === "string" || t === "number" || t === "boolean") return t;
  return "object";
}

/**
 * `value` converted to another JSON type, keeping what can be kept: `120` → `"120"`,
 * `"12.5"` → `12.5`, `"abc"` → `3` (its length), `true` → `1`, `x` → `{value: x}`,
 * `x` → `[x]`, `null` → `""` / `0` / `false` / `{}` / `[]`.
 */
export function retypeValue(value: unknown, to: RetypeTarget): unknown {
  switch (to) {
    case "string":
      if (value === null) return "";
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    case "number": {
      if (typeof value === "number") return value;
      if (typeof value === "string") {
        const n = Number(value);
        return value.trim() !== "" && Number.isFinite(n) ? n : value.length;
      }
      if (typeof value === "boolean") return value ? 1 : 0;
      if (value === null) return 0;
      return Array.isArray(value) ? value.length : Object.keys(value as JsonObject).length;
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      if (typeof value === "string") return value.length > 0;
      if (typeof value === "number") return value !== 0;
      return value !== null;
    case "object":
      if (isObject(value)) return value;
      return value === null ? {} : { value };
    case "array":
      if (Array.isArray(value)) return value;
      return value === null ? [] : [value];
  }
}

function describe(m: Mutation): string {
  const what = m.kind === "retype" ? `retype ${m.path} to ${m.to}` : `${m.kind} ${m.path}`;
  return m.essential ? `${what} (essential)` : what;
}

/** Applies `m` to `target` in place; returns the concrete paths changed. */
function applyInPlace(target: unknown, m: Mutation, occurrences: "all" | "first"): string[] {
  const changed: string[] = [];
  forEachHolder(target, m.path, (parent, key, concrete) => {
    if (occurrences === "first" && changed.length > 0) return;
    if (!Object.hasOwn(parent, key)) return;
    const value = parent[key];
    if (m.kind === "drop") {
      delete parent[key];
    } else if (m.kind === "null") {
      if (value === null) return;
      parent[key] = null;
    } else {
      if (m.to === undefined) throw new Error(`retype of ${m.path} needs a target type`);
      if (typeOf(value) === m.to) return;
      parent[key] = retypeValue(value, m.to);
    }
    changed.push(concrete);
  });
  return changed;
}

/**
 * A copy of `payload` with the mutations applied in order, or null when they change
 * nothing (the path is absent, or already null / of the target type everywhere). The
 * result lists only the mutations that changed something.
 */
export function applyMutations(
  payload: unknown,
  mutations: readonly Mutation[],
  options: { occurrences?: "all" | "first" } = {},
): MutatedPayload | null {
  const copy = structuredClone(payload);
  const changed: string[] = [];
  const effective: Mutation[] = [];
  for (const m of mutations) {
    const here = applyInPlace(copy, m, options.occurrences ?? "all");
    if (here.length === 0) continue;
    effective.push(m);
    changed.push(...here);
  }
  if (effective.length === 0) return null;
  return {
    mutations: effective,
    label: effective.map(describe).join(" + "),
    changed,
    payload: copy,
  };
}

/** The single mutations possible at one path: drop, null, and a retype to each other type. */
function mutationsAt(path: string, essential: boolean): Mutation[] {
  return [
    { path, kind: "drop", essential },
    { path, kind: "null", essential },
    ...RETYPE_TARGETS.map((to): Mutation => ({ path, kind: "retype", to, essential })),
  ];
}

/**
 * Every single mutation of every non-essential key path: drop, null, and retype to each
 * other JSON type. Variants that would change nothing are skipped. Lazy: one copy at a time.
 */
export function* singleMutations(
  payload: unknown,
  options: MutationOptions = {},
): Generator<MutatedPayload> {
  const essential = new Set(options.essential ?? ESSENTIAL_DETAIL_PATHS);
  for (const path of keyPaths(payload)) {
    if (essential.has(path)) continue;
    for (const m of mutationsAt(path, false)) {
      const variant = applyMutations(payload, [m], options);
      if (variant) yield variant;
    }
  }
}

/**
 * For each essential path present in the payload: a copy with it dropped, and one with it
 * null, each at its first occurrence only (so exactly one row is broken and `changed`
 * names it, e.g. `credits.cast[0].credit_id`). Labelled `essential: true`.
 */
export function* essentialMutations(
  payload: unknown,
  options: { essential?: readonly string[] } = {},
): Generator<MutatedPayload> {
  for (const path of options.essential ?? ESSENTIAL_DETAIL_PATHS) {
    for (const kind of ["drop", "null"] as const) {
      const variant = applyMutations(payload, [{ path, kind, essential: true }], {
        occurrences: "first",
      });
      if (variant) yield variant;
    }
  }
}

/** Whether mutating one path can change the other (one is the other or an ancestor of it). */
function overlaps(a: string, b: string): boolean {
  const within = (x: string, y: string) =>
    x === y || y.startsWith(`${x}.`) || y.startsWith(`${x}[`);
  return within(a, b) || within(b, a);
}

/** Options of {@link randomMutations}. */
export interface RandomMutationOptions extends MutationOptions {
  /** PRNG seed: same seed, same payload → same variants. */
  seed: number;
  /** Mutations per variant (≥ 1). */
  k: number;
  /** Number of variants. */
  count: number;
}

/**
 * `count` variants, each with `k` single mutations at distinct, non-overlapping
 * non-essential paths (no path is another's ancestor), drawn with a seeded PRNG; at each
 * drawn path the kind is drawn among those that change something there. A variant has fewer
 * than `k` only when the payload has fewer such paths.
 */
export function* randomMutations(
  payload: unknown,
  options: RandomMutationOptions,
): Generator<MutatedPayload> {
  const { seed, k, count } = options;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`k must be a positive integer: current value is ${k}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer: current value is ${count}`);
  }
  const essential = new Set(options.essential ?? ESSENTIAL_DETAIL_PATHS);
  const occurrences = options.occurrences ?? "all";
  const paths = keyPaths(payload).filter((p) => !essential.has(p));
  const next = mulberry32(seed);
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  };
  for (let made = 0; made < count; made++) {
    const copy = structuredClone(payload);
    const picked: Mutation[] = [];
    const changed: string[] = [];
    for (const path of shuffle(paths.slice())) {
      if (picked.length === k) break;
      if (picked.some((m) => overlaps(m.path, path))) continue;
      for (const m of shuffle(mutationsAt(path, false))) {
        const here = applyInPlace(copy, m, occurrences);
        if (here.length === 0) continue;
        picked.push(m);
        changed.push(...here);
        break;
      }
    }
    if (picked.length === 0) return;
    yield { mutations: picked, label: picked.map(describe).join(" + "), changed, payload: copy };
  }
}
