import assert from "node:assert/strict";
import { renderMarkdownTable, renderResultsTable, renderTargets, verdict } from "./report.ts";

Deno.test("renderMarkdownTable() pads columns and escapes pipes", () => {
  const t = renderMarkdownTable(["a", "bb"], [["x|y", "1"], ["long cell", ""]]);
  assert.equal(
    t,
    [
      "| a         | bb  |",
      "|-----------|-----|",
      "| x\\|y      | 1   |",
      "| long cell |     |",
    ].join("\n"),
  );
});

Deno.test("renderMarkdownTable() refuses a row with the wrong number of cells", () => {
  assert.throws(() => renderMarkdownTable(["a", "b"], [["1"]]), /row 0 has 1 cells, expected 2/);
});

Deno.test("renderMarkdownTable() pads by characters, not UTF-16 units", () => {
  const t = renderMarkdownTable(["x"], [["4,774×"], ["a › b"]]);
  const widths = t.split("\n").map((l) => [...l].length);
  assert.equal(new Set(widths).size, 1);
});

Deno.test("renderResultsTable() has the six columns in order", () => {
  const t = renderResultsTable([{
    scenario: "2 queue",
    metric: "items/s",
    ours: "9,000/s",
    versus: "graphile-worker: 8,000/s",
    ratio: "1.13×",
    target: "2: met",
  }]);
  assert.match(
    t.split("\n")[0],
    /^\| scenario +\| metric +\| ours +\| versus +\| ratio +\| target +\|$/,
  );
  assert.match(t, /\| 2 queue +\| items\/s +\| 9,000\/s +\|/);
});

Deno.test("verdict() and renderTargets() say met, missed or not measured", () => {
  assert.equal(verdict(true), "met");
  assert.equal(verdict(false), "missed");
  assert.equal(verdict(null), "not measured");
  assert.equal(
    renderTargets([
      { id: "1a", description: "p50 < 5 ms", met: true, detail: "p50 0.4 ms" },
      { id: "2", description: "≥ peer", met: false, detail: "0.9×" },
    ]),
    "- 1a p50 < 5 ms: met (p50 0.4 ms)\n- 2 ≥ peer: missed (0.9×)",
  );
});
