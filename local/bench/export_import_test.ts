import assert from "node:assert/strict";
import {
  EXPORT_CATALOG_SIZE,
  type ExportImportResult,
  exportImportRows,
  exportImportTarget,
  type ImportFigures,
} from "./export_import.ts";

function figures(over: Partial<ImportFigures> = {}): ImportFigures {
  return {
    kind: "seed",
    day: "2026-12-02",
    seconds: 180,
    invocations: 4,
    failedInvocations: 0,
    failedStatuses: [],
    cpuMaxMs: 900,
    cpuP50Ms: 600,
    hostCpuMaxMs: 950,
    maxRssMb: 120,
    lines: 1_100_000,
    malformed: 0,
    newIds: 1_100_000,
    queuedNew: 1_000_000,
    absent: 0,
    downloadSeconds: 60,
    diffSeconds: 110,
    ...over,
  };
}

function result(...imports: ImportFigures[]): ExportImportResult {
  return { catalogSize: EXPORT_CATALOG_SIZE.full, imports, cpuLimitMs: 2000 };
}

Deno.test("exportImportTarget() is met in minutes within the CPU limit, and says so", () => {
  const t = exportImportTarget(result(figures(), figures({ kind: "daily", seconds: 120 })));
  assert.equal(t.met, true);
  assert.match(t.detail, /^seed 1,100,000 lines 180 s, daily 1,100,000 lines 120 s; CPU max/);
});

Deno.test("exportImportTarget() is missed past 10 minutes, at 2 s of CPU, or with a failed run", () => {
  assert.equal(exportImportTarget(result(figures({ seconds: 600 }))).met, false);
  assert.equal(exportImportTarget(result(figures({ cpuMaxMs: 2000 }))).met, false);
  assert.equal(exportImportTarget(result(figures({ hostCpuMaxMs: 2010 }))).met, false);
  assert.equal(
    exportImportTarget(result(figures({ failedInvocations: 1, failedStatuses: [546] }))).met,
    false,
  );
  assert.equal(exportImportTarget(undefined).met, null);
});

Deno.test("exportImportRows() has one row per import with its verdict", () => {
  const r = result(
    figures(),
    figures({ kind: "daily", failedStatuses: [546], failedInvocations: 1 }),
  );
  const rows = exportImportRows(r, exportImportTarget(r));
  assert.equal(rows.length, 2);
  assert.match(rows[0].metric, /^first import \(every id new\), 1,100,000 lines/);
  assert.match(rows[1].metric, /^next day's diff/);
  assert.match(rows[1].ours, /failed answers 546$/);
  assert.equal(rows[0].target, "8: missed");
});
