import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import { ChangeModel, changeProbability } from "./changes.ts";
import { DAY_MS, dayOf, isoDay, NO_DATE } from "./time.ts";

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

Deno.test("details change exactly at change instants, which the changes feed lists", () => {
  const cat = createCatalog({ size: 3000, seed: 5, anchor: NOW });
  const from = NOW - 3 * DAY_MS;
  const changed = cat.changedIds(from, NOW, NOW);
  assert.ok(changed.length > 10, `some movies changed (${changed.length})`);
  let differing = 0;
  for (const id of changed.slice(0, 40)) {
    const instants = cat.changeInstants(id, from, NOW + 1);
    assert.ok(instants.length >= 1);
    const t = instants[0];
    const before = JSON.stringify(cat.details(id, t - 1, ALL_PARTS));
    const at = JSON.stringify(cat.details(id, t, ALL_PARTS));
    if (before !== at) differing++;
    // Between two change instants nothing changes.
    const next = instants[1] ?? NOW + 1;
    assert.equal(JSON.stringify(cat.details(id, next - 1, ALL_PARTS)), at);
  }
  assert.ok(differing >= 38, `popularity/votes move on each change (${differing}/40)`);
  // A movie that did not change in the window serves the same JSON throughout it.
  const unchanged = cat.ids.find((id) => !changed.includes(id))!;
  assert.equal(
    JSON.stringify(cat.details(unchanged, from, ALL_PARTS)),
    JSON.stringify(cat.details(unchanged, NOW, ALL_PARTS)),
  );
  // Nothing from the future is listed.
  assert.deepEqual(cat.changedIds(NOW + 1, NOW + DAY_MS, NOW), []);
  assert.ok(cat.changedIds(NOW + 1, NOW + DAY_MS, NOW + DAY_MS).length > 0);
});

Deno.test("upcoming movies get released: status, votes and a change on release day", () => {
  const cat = createCatalog({ size: 5000, seed: 2, anchor: NOW });
  const a = dayOf(NOW);
  const idx = cat.releaseDay.findIndex((r) => r !== NO_DATE && r > a + 2 && r < a + 60);
  assert.ok(idx >= 0);
  const id = cat.ids[idx];
  const r = cat.releaseDay[idx];
  const before = cat.details(id, NOW)!;
  assert.notEqual(before.status, "Released");
  assert.equal(before.vote_count, 0);
  assert.ok(before.release_date > isoDay(a));
  const releaseInstants = cat.changeInstants(id, r * DAY_MS, (r + 1) * DAY_MS);
  assert.equal(releaseInstants.length, 1);
  assert.equal(cat.details(id, releaseInstants[0] - 1)!.status, before.status);
  const after = cat.details(id, releaseInstants[0])!;
  assert.equal(after.status, "Released");
  assert.ok(after.vote_count > 0);
  assert.ok(cat.changedIds(r * DAY_MS, (r + 1) * DAY_MS, (r + 1) * DAY_MS).includes(id));
});

Deno.test("snapshot gives every movie the state stateAt gives it, before and after the baseline", () => {
  const cat = createCatalog({ size: 4000, seed: 11, anchor: NOW });
  const model = new ChangeModel({
    seed: cat.seed,
    baselineDay: cat.baselineDay,
    lifecycle: cat.lifecycle,
    idOf: (i) => cat.idOf(i),
    ids: (n) => cat.lifecycle.ids(n),
    attributes: cat.attributes,
  });
  for (const at of [NOW, NOW + 20 * DAY_MS + 1234, NOW - 10 * DAY_MS, NOW - 45 * DAY_MS]) {
    const snap = model.snapshot(at);
    assert.equal(snap.count, cat.lifecycle.countBy(dayOf(at)));
    for (let i = 0; i < snap.count; i += 13) {
      const state = model.stateAt(i, at);
      assert.deepEqual([snap.version[i], snap.day[i]], [state.version, state.day], `${i} @ ${at}`);
    }
  }
  // The change feed's window: exactly the movies with an instant inside it.
  const start = NOW - DAY_MS;
  const listed = new Set(model.changedIndexes(start, NOW, NOW));
  for (let i = 0; i < cat.lifecycle.countBy(dayOf(NOW)); i++) {
    assert.equal(listed.has(i), model.changeInstants(i, start, NOW).length > 0, `movie ${i}`);
  }
});

Deno.test("changeProbability: release day always, near it often, old movies rarely", () => {
  assert.equal(changeProbability(100, 100), 1);
  assert.equal(changeProbability(100, 50), 0.2);
  assert.equal(changeProbability(100, 10), 0.05);
  assert.equal(changeProbability(100, 120), 0.15);
  assert.equal(changeProbability(100, 300), 0.02);
  assert.equal(changeProbability(100, 1000), 0.002);
  assert.equal(changeProbability(NO_DATE, 1000), 0.01);
});
