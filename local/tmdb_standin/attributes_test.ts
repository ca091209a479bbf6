import assert from "node:assert/strict";
import { createCatalog } from "./catalog.ts";
import { adultOf, MovieAttributes, releaseDayOf } from "./attributes.ts";
import { dayOf, isoDay as isoDayOf, NO_DATE } from "./time.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");

Deno.test("release dates follow the requested distribution relative to the anchor", () => {
  const cat = createCatalog({ size: 20_000, seed: 3, anchor: NOW });
  const a = dayOf(NOW);
  let upcoming = 0, month = 0, year = 0, none = 0, old1920 = 0;
  for (const r of cat.releaseDay) {
    if (r === NO_DATE) none++;
    else if (r > a) upcoming++;
    else if (r > a - 30) month++;
    else if (r > a - 365) year++;
    else if (r >= dayOf(Date.UTC(1920, 0, 1))) old1920++;
  }
  const n = cat.size;
  assert.ok(Math.abs(upcoming / n - 0.02) < 0.006, `upcoming ${upcoming / n}`);
  assert.ok(Math.abs(month / n - 0.05) < 0.01, `last 30 days ${month / n}`);
  assert.ok(Math.abs(year / n - 0.10) < 0.015, `last year ${year / n}`);
  assert.ok(none > 0 && old1920 + upcoming + month + year + none === n);
});

Deno.test("MovieAttributes: filled arrays agree with single lookups; fills grow on demand", () => {
  const cat = createCatalog({ size: 5000, seed: 4, anchor: NOW });
  const fresh = new MovieAttributes(cat.seed, cat.anchorDay, (i) => cat.idOf(i));
  assert.equal(fresh.filled, 0);
  const single = Array.from({ length: 300 }, (_, i) => [
    fresh.releaseDay(i),
    fresh.basePopularity(i),
    fresh.adult(i),
  ]);
  assert.equal(fresh.filled, 0, "single lookups do not fill");
  fresh.fill(100);
  fresh.fill(300);
  assert.equal(fresh.filled, 300);
  const release = fresh.releaseDays(300);
  const pop = fresh.basePopularities(300);
  const adult = fresh.adultFlags(300);
  for (let i = 0; i < 300; i++) {
    assert.deepEqual(single[i], [release[i], pop[i], adult[i] === 1]);
    assert.equal(release[i], releaseDayOf(cat.seed, cat.idOf(i), cat.anchorDay));
    assert.equal(adult[i] === 1, adultOf(cat.seed, cat.idOf(i)));
  }
  const fc = cat.indexOf(550);
  assert.equal(isoDayOf(cat.attributes.releaseDay(fc)), "1999-10-15");
  assert.equal(cat.attributes.adult(fc), false);
  const adults = cat.adult.reduce((n, a) => n + a, 0);
  assert.ok(adults > 20 && adults < 90, `about 1 % adult (${adults} of 5000)`);
});
