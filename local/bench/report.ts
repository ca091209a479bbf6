/**
 * How benchmark results are shown: one row per figure, rendered as a Markdown table (it
 * reads fine in a terminal and pastes into docs/benchmarks.md as is), and the targets with
 * a met / missed verdict. Pure; see `report_test.ts`.
 *
 * @module
 */

/** One line of the results table. */
export interface TableRow {
  /** Scenario number and name, e.g. `"1 stale"`. */
  scenario: string;
  /** What is measured. */
  metric: string;
  /** The project's figure. */
  ours: string;
  /** The figure it is compared with (peer or baseline), with its name; `""` when none. */
  versus: string;
  /** `ours` relative to `versus` (higher is better for ours), or `"—"`. */
  ratio: string;
  /** The target and its verdict, or `""`. */
  target: string;
}

/** A target of the issue and whether this run met it. */
export interface TargetResult {
  /** Short id, e.g. `"1a"`. */
  id: string;
  /** The target as the issue states it. */
  description: string;
  /** `true` met, `false` missed, `null` not measured in this run. */
  met: boolean | null;
  /** The numbers behind the verdict. */
  detail: string;
}

/** `met`, `missed` or `not measured`. */
export function verdict(met: boolean | null): string {
  return met === null ? "not measured" : met ? "met" : "missed";
}

/** Escapes what would break a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/**
 * A Markdown table with padded columns. Every row must have as many cells as `headers`
 * (throws otherwise, naming the row).
 */
export function renderMarkdownTable(headers: readonly string[], rows: readonly string[][]): string {
  rows.forEach((r, i) => {
    if (r.length !== headers.length) {
      throw new Error(
        `table row ${i} has ${r.length} cells, expected ${headers.length}: ${JSON.stringify(r)}`,
      );
    }
  });
  const all = [headers.map(cell), ...rows.map((r) => r.map(cell))];
  const widths = headers.map((_, c) => Math.max(3, ...all.map((r) => [...r[c]].length)));
  const line = (r: string[]) =>
    `| ${r.map((v, c) => v + " ".repeat(widths[c] - [...v].length)).join(" | ")} |`;
  return [
    line(all[0]),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...all.slice(1).map(line),
  ].join("\n");
}

/** The results table of a run. */
export function renderResultsTable(rows: readonly TableRow[]): string {
  return renderMarkdownTable(
    ["scenario", "metric", "ours", "versus", "ratio", "target"],
    rows.map((r) => [r.scenario, r.metric, r.ours, r.versus, r.ratio, r.target]),
  );
}

/** The targets as a list, one line each: `- 1a p50 < 5 ms at 1M: met (0.41 ms)`. */
export function renderTargets(targets: readonly TargetResult[]): string {
  return targets.map((t) => `- ${t.id} ${t.description}: ${verdict(t.met)} (${t.detail})`)
    .join("\n");
}
