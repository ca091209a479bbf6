import assert from "node:assert/strict";
import { createCatalog, DAY_MS } from "./catalog.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const ALL_PARTS = [
  "credits",
  "videos",
  "release_dates",
  "external_ids",
  "keywords",
  "images",
  "alternative_titles",
];

Deno.test("same seed and anchor → identical JSON; another seed → different", () => {
  const a = createCatalog({ size: 2000, seed: 7, anchor: NOW });
  const b = createCatalog({ size: 2000, seed: 7, anchor: NOW });
  const c = createCatalog({ size: 2000, seed: 8, anchor: NOW });
  assert.deepEqual(a.ids, b.ids);
  for (const idx of [0, 1, 17, 500, 1999]) {
    const id = a.ids[idx];
    assert.equal(
      JSON.stringify(a.details(id, NOW, ALL_PARTS)),
      JSON.stringify(b.details(id, NOW, ALL_PARTS)),
    );
  }
  assert.equal(JSON.stringify(a.popular(NOW, 3)), JSON.stringify(b.popular(NOW, 3)));
  assert.equal(
    JSON.stringify(a.changes(NOW - DAY_MS, NOW, NOW, 1)),
    JSON.stringify(b.changes(NOW - DAY_MS, NOW, NOW, 1)),
  );
  assert.notDeepEqual(a.ids, c.ids);
  assert.notEqual(JSON.stringify(a.popular(NOW, 1)), JSON.stringify(c.popular(NOW, 1)));
});

Deno.test("a 1,000,000-movie catalog builds and serves quickly enough", () => {
  const t0 = performance.now();
  const cat = createCatalog({ size: 1_000_000, seed: 1, anchor: NOW });
  const built = performance.now() - t0;
  assert.ok(built < 2000, `build took ${built} ms`);
  const id = cat.ids[123_456]; // the sorted id array is built on first use
  const t1 = performance.now();
  const d = cat.details(id, NOW, ALL_PARTS);
  assert.ok(d);
  assert.ok(performance.now() - t1 < 100);
  assert.ok(cat.ids[cat.size - 1] <= 1_500_000);
  const page = cat.changes(NOW - DAY_MS, NOW, NOW, 1);
  assert.equal(page.results.length, 100);
  assert.ok(page.total_results > 1000);
});
