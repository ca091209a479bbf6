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

Deno.test("additions and deletions agree across details, the change feed and the lists", () => {
  const cat = createCatalog({
    size: 3000,
    seed: 8,
    anchor: NOW,
    additionsRate: 0.003,
    deletionsRate: 0.002,
  });
  const A = cat.anchorDay;
  let added = 0;
  let deleted = 0;
  for (const day of [A - 20, A - 1, A, A + 1, A + 4, A + 30]) {
    const start = day * DAY_MS;
    const events = cat.lifecycle.eventsOn(day);
    added += events.added.length;
    deleted += events.deleted.length;
    const changed = new Set(cat.changedIds(start, start + DAY_MS, start + DAY_MS));
    for (const idx of events.added) {
      const id = cat.idOf(idx);
      assert.ok(changed.has(id), `added ${id} is in the feed of its day`);
      assert.equal(cat.details(id, start - 1), null, `${id} does not exist the day before`);
      assert.equal(cat.details(id, start)?.id, id, `${id} exists from 00:00`);
      assert.deepEqual(cat.changeInstants(id, start - 5 * DAY_MS, start + 1), [start]);
      assert.ok(!cat.changedIds(start - DAY_MS, start, start).includes(id));
    }
    for (const idx of events.deleted) {
      const id = cat.idOf(idx);
      assert.ok(changed.has(id), `deleted ${id} is in the feed of its day`);
      assert.equal(cat.details(id, start - 1)?.id, id);
      assert.equal(cat.details(id, start), null, `${id} is gone from 00:00`);
      assert.ok(!cat.exists(id, start + 10 * DAY_MS));
      assert.deepEqual(cat.changeInstants(id, start + 1, start + 10 * DAY_MS), []);
    }
    // The lists list exactly the non-adult movies existing at that hour.
    const at = start + 12 * 3_600_000;
    const expected = new Set<number>();
    const n = cat.lifecycle.countBy(day);
    for (let i = 0; i < n; i++) {
      if (cat.lifecycle.existsOn(i, day) && !cat.attributes.adult(i)) expected.add(cat.idOf(i));
    }
    const first = cat.popular(at, 1);
    assert.equal(first.total_results, expected.size);
    const listed = new Set<number>();
    for (let page = 1; page <= first.total_pages; page++) {
      for (const m of cat.popular(at, page).results) listed.add(m.id);
    }
    assert.deepEqual([...listed].sort((a, b) => a - b), [...expected].sort((a, b) => a - b));
    assert.equal(cat.countAt(at), cat.lifecycle.countOn(day));
  }
  assert.ok(added > 20 && deleted > 10, `${added} added, ${deleted} deleted`);
  // The change feed stays in id order with deleted-before-anchor ids mixed in.
  const window = cat.changedIds((A - 14) * DAY_MS, A * DAY_MS, NOW);
  assert.deepEqual(window, [...window].sort((a, b) => a - b));
  assert.ok(window.some((id) => cat.lifecycle.kindOf(cat.indexOf(id)) === "ghost"));
});
