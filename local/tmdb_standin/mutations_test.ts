import assert from "node:assert/strict";
import { createCatalog, SUPPORTED_APPEND_PARTS } from "./catalog.ts";
import {
  applyMutations,
  ESSENTIAL_DETAIL_PATHS,
  essentialMutations,
  hasPath,
  keyPaths,
  missingEssentials,
  normalisePath,
  randomMutations,
  retypeValue,
  singleMutations,
} from "./mutations.ts";

/** Parsed JSON of unknown shape (tests index into it freely). */
// deno-lint-ignore no-explicit-any
type Json = any;

const SMALL = {
  id: 7,
  title: "A",
  runtime: null,
  genres: [{ id: 18, name: "Drama" }, { id: 35, name: "Comedy", extra: true }],
  credits: { cast: [{ id: 1, credit_id: "c1", character: "X" }] },
};

const SMALL_ESSENTIAL = ["id", "genres[].id", "credits.cast[].id", "credits.cast[].credit_id"];

/** The first movie of a small catalog whose every appended list has entries. */
function fullPayload(): Json {
  const at = Date.parse("2026-03-01T12:00:00Z");
  const cat = createCatalog({ size: 2000, seed: 1, anchor: at });
  for (const id of cat.ids) {
    const d: Json = cat.details(id, at, SUPPORTED_APPEND_PARTS);
    const lists = [
      d.genres,
      d.credits.cast,
      d.credits.crew,
      d.videos.results,
      d.release_dates.results,
      d.keywords.keywords,
    ];
    if (lists.every((l) => l.length > 0)) return d;
  }
  throw new Error("no movie with every appended list filled");
}

Deno.test("keyPaths lists object keys at every depth, array elements as [], parents first", () => {
  assert.deepEqual(keyPaths(SMALL), [
    "id",
    "title",
    "runtime",
    "genres",
    "genres[].id",
    "genres[].name",
    "genres[].extra",
    "credits",
    "credits.cast",
    "credits.cast[].id",
    "credits.cast[].credit_id",
    "credits.cast[].character",
  ]);
  assert.deepEqual(keyPaths([{ a: [[{ b: 1 }]] }]), ["[].a", "[].a[][].b"]);
  assert.deepEqual(keyPaths("x"), []);
  assert.equal(normalisePath("credits.cast[12].character"), "credits.cast[].character");
  assert.equal(normalisePath("a[0][3].b"), "a[][].b");
});

Deno.test("retypeValue converts between JSON types keeping what it can", () => {
  assert.equal(retypeValue(120, "string"), "120");
  assert.equal(retypeValue({ a: 1 }, "string"), '{"a":1}');
  assert.equal(retypeValue(null, "string"), "");
  assert.equal(retypeValue("12.5", "number"), 12.5);
  assert.equal(retypeValue("abc", "number"), 3);
  assert.equal(retypeValue("", "number"), 0);
  assert.equal(retypeValue(true, "number"), 1);
  assert.equal(retypeValue([1, 2], "number"), 2);
  assert.equal(retypeValue("", "boolean"), false);
  assert.equal(retypeValue(0, "boolean"), false);
  assert.equal(retypeValue({}, "boolean"), true);
  assert.deepEqual(retypeValue("x", "object"), { value: "x" });
  assert.deepEqual(retypeValue(null, "object"), {});
  assert.deepEqual(retypeValue(5, "array"), [5]);
  assert.deepEqual(retypeValue(null, "array"), []);
});

Deno.test("singleMutations drops, nulls and retypes every non-essential path, all occurrences", () => {
  const before = JSON.stringify(SMALL);
  const variants = [...singleMutations(SMALL, { essential: SMALL_ESSENTIAL })];
  assert.equal(JSON.stringify(SMALL), before, "the input is not modified");
  const labels = variants.map((v) => v.label);
  // runtime is null: no "null" variant; it retypes to every type.
  assert.deepEqual(labels.filter((l) => l.includes(" runtime")), [
    "drop runtime",
    "retype runtime to string",
    "retype runtime to number",
    "retype runtime to boolean",
    "retype runtime to object",
    "retype runtime to array",
  ]);
  // title is a string: no retype to string.
  assert.deepEqual(labels.filter((l) => l.includes(" title")), [
    "drop title",
    "null title",
    "retype title to number",
    "retype title to boolean",
    "retype title to object",
    "retype title to array",
  ]);
  // 8 non-essential paths × 6: drop, null and a retype to the 4 other types (runtime, being
  // null, has no null variant and retypes to all 5).
  assert.equal(variants.length, 48);
  for (const v of variants) {
    assert.equal(v.mutations.length, 1);
    assert.ok(!SMALL_ESSENTIAL.includes(v.mutations[0].path), v.label);
    assert.equal(v.mutations[0].essential, false);
    assert.deepEqual(missingEssentials(v.payload, SMALL_ESSENTIAL), [], v.label);
  }
  const dropName = variants.find((v) => v.label === "drop genres[].name")!;
  assert.deepEqual(dropName.changed, ["genres[0].name", "genres[1].name"]);
  assert.deepEqual((dropName.payload as Json).genres, [{ id: 18 }, { id: 35, extra: true }]);
  const retype = variants.find((v) => v.label === "retype credits.cast[].character to number")!;
  assert.equal((retype.payload as Json).credits.cast[0].character, 1);
  // genres[].extra exists in one element only: a mutation changes just that one.
  assert.deepEqual(variants.find((v) => v.label === "null genres[].extra")!.changed, [
    "genres[1].extra",
  ]);
  const first = [...singleMutations(SMALL, { essential: SMALL_ESSENTIAL, occurrences: "first" })]
    .find((v) => v.label === "drop genres[].name")!;
  assert.deepEqual(first.changed, ["genres[0].name"]);
});

Deno.test("essentialMutations drop and null each essential value at its first occurrence", () => {
  const variants = [...essentialMutations(SMALL, { essential: SMALL_ESSENTIAL })];
  assert.deepEqual(variants.map((v) => [v.label, v.changed]), [
    ["drop id (essential)", ["id"]],
    ["null id (essential)", ["id"]],
    ["drop genres[].id (essential)", ["genres[0].id"]],
    ["null genres[].id (essential)", ["genres[0].id"]],
    ["drop credits.cast[].id (essential)", ["credits.cast[0].id"]],
    ["null credits.cast[].id (essential)", ["credits.cast[0].id"]],
    ["drop credits.cast[].credit_id (essential)", ["credits.cast[0].credit_id"]],
    ["null credits.cast[].credit_id (essential)", ["credits.cast[0].credit_id"]],
  ]);
  for (const v of variants) {
    assert.equal(v.mutations[0].essential, true);
    assert.deepEqual(missingEssentials(v.payload, SMALL_ESSENTIAL), v.changed);
  }
});

Deno.test("randomMutations: k mutations at non-overlapping non-essential paths, same per seed", () => {
  const payload = fullPayload();
  const run = (seed: number) =>
    [...randomMutations(payload, { seed, k: 4, count: 30 })].map((v) => v.label);
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
  for (const v of randomMutations(payload, { seed: 5, k: 4, count: 30 })) {
    assert.ok(v.mutations.length >= 1 && v.mutations.length <= 4, v.label);
    for (const m of v.mutations) {
      assert.ok(!(ESSENTIAL_DETAIL_PATHS as readonly string[]).includes(m.path), v.label);
      for (const other of v.mutations) {
        if (other === m) continue;
        assert.ok(!other.path.startsWith(`${m.path}.`), v.label);
        assert.ok(!other.path.startsWith(`${m.path}[`), v.label);
      }
    }
    assert.deepEqual(missingEssentials(v.payload), [], v.label);
  }
  const counts = [...randomMutations(payload, { seed: 1, k: 4, count: 200 })]
    .map((v) => v.mutations.length);
  assert.deepEqual(counts, Array(200).fill(4), "every variant carries k effective mutations");
  assert.deepEqual(
    [...randomMutations({ id: 1, a: 2 }, { seed: 1, k: 3, count: 2, essential: ["id"] })]
      .map((v) => v.mutations.map((m) => m.path)),
    [["a"], ["a"]],
    "fewer than k when the payload has fewer paths",
  );
  assert.throws(() => [...randomMutations(payload, { seed: 1, k: 0, count: 1 })], /k must be/);
});

Deno.test("on a full details payload every non-essential path is mutated and no essential one", () => {
  const payload = fullPayload();
  const paths = keyPaths(payload);
  for (const essential of ESSENTIAL_DETAIL_PATHS) assert.ok(paths.includes(essential), essential);
  const mutated = new Map<string, Set<string>>();
  let n = 0;
  for (const v of singleMutations(payload)) {
    n++;
    const m = v.mutations[0];
    const kinds = mutated.get(m.path) ?? new Set();
    kinds.add(m.kind);
    mutated.set(m.path, kinds);
    assert.deepEqual(missingEssentials(v.payload), [], v.label);
    assert.ok(v.changed.every((c) => normalisePath(c) === m.path), v.label);
  }
  const nonEssential = paths.filter((p) =>
    !(ESSENTIAL_DETAIL_PATHS as readonly string[]).includes(p)
  );
  assert.deepEqual([...mutated.keys()].sort(), nonEssential.sort());
  for (const [path, kinds] of mutated) {
    assert.ok(kinds.has("drop") && kinds.has("retype"), `${path}: ${[...kinds]}`);
  }
  assert.ok(n > nonEssential.length * 5, `${n} variants for ${nonEssential.length} paths`);
  const essentials = [...essentialMutations(payload)];
  assert.equal(essentials.length, 2 * ESSENTIAL_DETAIL_PATHS.length);
  for (const v of essentials) {
    assert.equal(v.changed.length, 1);
    assert.deepEqual(missingEssentials(v.payload), v.changed, v.label);
  }
});

Deno.test("missingEssentials names the concrete path; applyMutations rejects bad paths", () => {
  const payload = fullPayload();
  assert.deepEqual(missingEssentials(payload), []);
  const broken = applyMutations(payload, [{
    path: "release_dates.results[].release_dates[].type",
    kind: "drop",
    essential: true,
  }], { occurrences: "first" })!;
  assert.deepEqual(missingEssentials(broken.payload), [
    "release_dates.results[0].release_dates[0].type",
  ]);
  assert.equal(applyMutations(payload, [{ path: "nope", kind: "drop", essential: false }]), null);
  assert.ok(hasPath(payload, "credits.crew[].job"));
  assert.ok(!hasPath(payload, "credits.crew[].character"));
  assert.throws(
    () => applyMutations(payload, [{ path: "a..b", kind: "drop", essential: false }]),
    /not a normalised key path: "a\.\.b"/,
  );
  assert.throws(
    () => applyMutations(payload, [{ path: "genres[]", kind: "drop", essential: false }]),
    /must end with a key/,
  );
});
