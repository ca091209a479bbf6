import assert from "node:assert/strict";
import { parseBenchArgs, timestampName } from "./bench.ts";
import { cpuModelOf, prettyOsName } from "./env.ts";
import { insertWorksSql, splitRange } from "./stale.ts";

Deno.test("parseBenchArgs() reads --quick, --keep and --only", () => {
  const none = parseBenchArgs([]);
  assert.deepEqual([none.quick, none.keep, [...none.only]], [false, false, [
    "1",
    "2",
    "3",
    "4",
    "6",
    "7",
    "8",
    "9",
  ]]);
  const some = parseBenchArgs(["--quick", "--keep", "--only", "2,3"]);
  assert.deepEqual([some.quick, some.keep, [...some.only]], [true, true, ["2", "3"]]);
});

Deno.test("parseBenchArgs() refuses unknown arguments and scenarios, naming them", () => {
  assert.throws(() => parseBenchArgs(["--fast"]), /unknown bench argument "--fast"/);
  assert.throws(() => parseBenchArgs(["--only", "5"]), /current value is "5"/);
  assert.throws(() => parseBenchArgs(["--only"]), /current value is ""/);
});

Deno.test("timestampName() is an ISO instant without colons or milliseconds", () => {
  assert.equal(timestampName(new Date("2026-11-30T09:40:00.123Z")), "2026-11-30T09-40-00Z");
});

Deno.test("splitRange() covers 1..n in contiguous parts", () => {
  assert.deepEqual(splitRange(10, 2), [[1, 5], [6, 10]]);
  assert.deepEqual(splitRange(5, 2), [[1, 3], [4, 5]]);
  assert.deepEqual(splitRange(1, 4), [[1, 1]]);
});

Deno.test("insertWorksSql() inserts the given range and refuses a bad one", () => {
  assert.match(insertWorksSql(1, 500), /generate_series\(1, 500\)/);
  assert.throws(() => insertWorksSql(0, 5), /got 0\.\.5/);
  assert.throws(() => insertWorksSql(5, 4), /got 5\.\.4/);
});

Deno.test("cpuModelOf() and prettyOsName() read /proc/cpuinfo and /etc/os-release", () => {
  assert.equal(
    cpuModelOf("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags: x\n"),
    "Intel(R) Xeon(R) Processor",
  );
  assert.equal(cpuModelOf(""), "unknown");
  assert.equal(
    prettyOsName('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
    "Debian GNU/Linux 12 (bookworm)",
  );
  assert.equal(prettyOsName("ID=debian"), null);
});
