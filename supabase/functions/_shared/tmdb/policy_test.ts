import assert from "node:assert/strict";
import { hasType, inspectShape, mergeDrift, prefixDrift, type ShapeRules } from "./policy.ts";

const RULES: ShapeRules = {
  "": {
    id: { type: "integer", essential: true },
    title: { type: "string" },
    tagline: { type: "string", nullable: true },
    extra: { type: "string", optional: true },
    tags: { type: "array" },
  },
  "tags": { "[]": { type: "object" } },
  "tags[]": { id: { type: "integer", essential: true }, name: { type: "string" } },
};

Deno.test("inspectShape() finds nothing in a document that follows the rules", () => {
  assert.deepEqual(
    inspectShape({ id: 1, title: "t", tagline: null, tags: [{ id: 2, name: "n" }] }, RULES),
    { drift: {}, essential: [] },
  );
});

Deno.test("inspectShape() counts missing, null, wrong types and unknown keys by normalised path", () => {
  const { drift, essential } = inspectShape({
    id: 1,
    title: null,
    tags: [{ id: 2 }, { id: 3, name: 4, x: 1 }, "bad"],
    surprise: { deep: true },
  }, RULES);
  assert.deepEqual(essential, []);
  assert.deepEqual(drift, {
    title: { null: 1 },
    tagline: { missing: 1 },
    "tags[].name": { missing: 1, wrong_type: 1 },
    "tags[].x": { unknown: 1 },
    "tags[]": { wrong_type: 1 },
    surprise: { unknown: 1 },
  });
});

Deno.test("inspectShape() lists essential problems with indexed paths instead of counting them", () => {
  const { drift, essential } = inspectShape({
    id: "7",
    title: "t",
    tagline: "x",
    tags: [{ id: 2, name: "a" }, { name: "b" }, { id: 0, name: "c" }, { id: null, name: "d" }],
  }, RULES);
  assert.deepEqual(drift, {});
  assert.deepEqual(essential, [
    { path: "id", kind: "wrong_type" },
    { path: "tags[1].id", kind: "missing" },
    { path: "tags[2].id", kind: "out_of_range" },
    { path: "tags[3].id", kind: "null" },
  ]);
});

Deno.test("inspectShape() does not walk a container of the wrong type", () => {
  assert.deepEqual(inspectShape({ id: 1, title: "t", tagline: "", tags: { id: 1 } }, RULES).drift, {
    tags: { wrong_type: 1 },
  });
  assert.deepEqual(inspectShape([1, 2], RULES), { drift: {}, essential: [] });
});

Deno.test("hasType() treats integers as safe whole numbers", () => {
  assert.equal(hasType(3, "integer"), true);
  assert.equal(hasType(3.5, "integer"), false);
  assert.equal(hasType(2 ** 60, "integer"), false);
  assert.equal(hasType(3.5, "number"), true);
  assert.equal(hasType([], "object"), false);
  assert.equal(hasType([], "array"), true);
});

Deno.test("mergeDrift() adds counts; prefixDrift() namespaces paths", () => {
  const into = { a: { missing: 1 } };
  mergeDrift(into, { a: { missing: 2, null: 1 }, b: { unknown: 1 } });
  assert.deepEqual(into, { a: { missing: 3, null: 1 }, b: { unknown: 1 } });
  assert.deepEqual(prefixDrift(into, "list:"), {
    "list:a": { missing: 3, null: 1 },
    "list:b": { unknown: 1 },
  });
});
