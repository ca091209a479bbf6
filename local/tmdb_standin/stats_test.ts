import assert from "node:assert/strict";
import { StatsRecorder } from "./stats.ts";

Deno.test("StatsRecorder counts requests, answers, 429s and faults; snapshots are copies", () => {
  const stats = new StatsRecorder();
  stats.request("/movie/{id}", 550, 0);
  stats.request("/movie/{id}", 550, 10);
  stats.request("/movie/popular", undefined, 20);
  stats.answered(200);
  stats.answered(404);
  stats.rateLimited();
  stats.injected("hang");
  stats.exportRequest(200);
  stats.exportRequest(404);
  const now = new Date("2026-03-01T00:00:00Z");
  const snap = stats.snapshot(now);
  assert.deepEqual(snap, {
    total: 3,
    byEndpoint: { "/movie/{id}": 2, "/movie/popular": 1 },
    byMovieId: { "550": 2 },
    byStatus: { "200": 1, "404": 1 },
    rateLimited: 1,
    busiestSecond: 3,
    injected: { error5xx: 0, rate429: 0, hang: 1, malformedJson: 0, notFound: 0 },
    exports: { requests: 2, byStatus: { "200": 1, "404": 1 } },
    now: "2026-03-01T00:00:00.000Z",
  });
  snap.byEndpoint["/movie/{id}"] = 99;
  assert.equal(stats.snapshot(now).byEndpoint["/movie/{id}"], 2);
  stats.reset();
  assert.equal(stats.snapshot(now).total, 0);
  assert.equal(stats.snapshot(now).busiestSecond, 0);
});
