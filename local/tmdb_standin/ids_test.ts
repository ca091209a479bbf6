import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import { FIGHT_CLUB_ID, IdLattice } from "./ids.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");

Deno.test("ids are sparse, sorted, unique, include 550; 5000 movies build fast", () => {
  const t0 = performance.now();
  const cat = createCatalog({ size: 5000, seed: 1, anchor: NOW });
  const built = performance.now() - t0;
  assert.ok(built < 500, `building 5000 movies took ${built} ms`);
  assert.equal(cat.ids.length, 5000);
  for (let i = 1; i < cat.ids.length; i++) assert.ok(cat.ids[i] > cat.ids[i - 1]);
  assert.ok(cat.ids[0] >= 2 && cat.ids[cat.ids.length - 1] <= 1_500_000);
  assert.ok(cat.ids[cat.ids.length - 1] > 1_000_000, "ids spread over the range");
  assert.ok(cat.has(550));
  assert.equal(cat.details(550, NOW)?.imdb_id, "tt0137523");
  assert.equal(cat.details(1, NOW), null);
  assert.equal(cat.indexOf(cat.ids[1234]), 1234);
});

Deno.test("IdLattice: idAt / latticeIndexOf / slotOf agree everywhere, in O(1)", () => {
  for (const size of [1, 7, 3000, 1_000_000, 1_200_000]) {
    const lattice = new IdLattice(size, 3);
    const n = Math.min(size, 50_000);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const id = lattice.idAt(i);
      assert.ok(id > prev, `size ${size}: ids ascend at ${i}`);
      prev = id;
      assert.equal(lattice.latticeIndexOf(id), i, `size ${size}: id ${id}`);
      assert.equal(lattice.slotOf(id), i);
      assert.ok(id >= lattice.slotStart(i) && id < lattice.slotStart(i + 1));
    }
    assert.equal(lattice.latticeIndexOf(FIGHT_CLUB_ID), lattice.fightClubIndex);
    assert.equal(lattice.latticeIndexOf(1), -1);
    assert.equal(lattice.latticeIndexOf(0.5), -1);
    // Above the anchor day's range the lattice goes on (later additions).
    const next = lattice.idAt(size);
    assert.ok(next > lattice.idAt(size - 1) && next >= lattice.span - 1);
    assert.equal(lattice.latticeIndexOf(next), size);
  }
  assert.throws(() => new IdLattice(0, 1), /catalog size must be an integer in 1\.\.5000000/);
  assert.throws(() => new IdLattice(10, 1.5), /catalog seed must be an integer, got 1.5/);
});

Deno.test("baseIds is the lattice's first `size` ids, built once", () => {
  const lattice = new IdLattice(20_000, 9);
  const ids = lattice.baseIds();
  assert.equal(ids.length, 20_000);
  assert.strictEqual(lattice.baseIds(), ids);
  for (let i = 0; i < ids.length; i += 97) assert.equal(ids[i], lattice.idAt(i));
});

Deno.test("sparsity: at TMDB's size about a third of the ids up to the largest do not exist", () => {
  for (const size of [1_100_000, 1_200_000]) {
    const cat = createCatalog({ size, seed: 2, anchor: NOW });
    const ids = cat.ids;
    const max = ids[ids.length - 1];
    assert.ok(max > 1.6e6 && max <= 1.8e6, `size ${size}: largest id ${max}`);
    const ratio = size / max;
    assert.ok(ratio > 0.6 && ratio < 0.7, `size ${size}: ${ratio} of the ids exist`);
    // Probing ids 1..max at random: about a third answer 404.
    let missing = 0;
    const probes = 20_000;
    for (let k = 0; k < probes; k++) {
      const id = 1 + Math.floor(((k * 2654435761) % 4294967296) / 4294967296 * max);
      if (!cat.exists(id, NOW)) missing++;
    }
    const share = missing / probes;
    assert.ok(share > 0.3 && share < 0.4, `size ${size}: ${share} of probed ids missing`);
  }
  // A small catalog is a thinned sample of the same range.
  const small = createCatalog({ size: 3000, seed: 2, anchor: NOW });
  assert.ok(small.ids[small.size - 1] > 1_400_000);
});
