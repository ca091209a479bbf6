import assert from "node:assert/strict";
import { loadEnvFile, parseEnvFile } from "./env_file.ts";

Deno.test("parseEnvFile() reads dotenv syntax and never shows a value in an error", () => {
  assert.deepEqual(
    parseEnvFile(
      [
        "# comment",
        "",
        "PLAIN=value # trailing comment",
        "export EXPORTED=yes",
        'DOUBLE="a \\"quoted\\" line\\nnext"',
        "SINGLE='kept \\n literally'",
        'MULTI="first',
        'second"',
        "EMPTY=",
        "HASH=a#b",
      ].join("\n"),
    ),
    {
      PLAIN: "value",
      EXPORTED: "yes",
      DOUBLE: 'a "quoted" line\nnext',
      SINGLE: "kept \\n literally",
      MULTI: "first\nsecond",
      EMPTY: "",
      HASH: "a#b",
    },
  );
  assert.throws(
    () => parseEnvFile("OK=1\nsk_live_secret_value\n", "x.env"),
    (error: Error) => {
      assert.equal(
        error.message,
        "x.env line 2 is not KEY=VALUE (its content is not shown: it may hold a secret)",
      );
      return true;
    },
  );
  assert.throws(
    () => parseEnvFile('A="unterminated', "x.env"),
    /x\.env line 1: A has an unterminated/,
  );
});

Deno.test("parseEnvFile() takes CRLF lines, tabs and \\r escapes, and a later line wins", () => {
  assert.deepEqual(
    parseEnvFile('A=1\r\nB="x\\ty\\rz"\r\nA=2 # again\r\n'),
    { A: "2", B: "x\ty\rz" },
  );
});

Deno.test("parseEnvFile() refuses a bad name and text after a closing quote, naming the line only", () => {
  assert.throws(
    () => parseEnvFile("\n1BAD=secret-value", "x.env"),
    (error: Error) => {
      assert.equal(
        error.message,
        'x.env line 2: "1BAD" is not a valid variable name (letters, digits and _, not ' +
          "starting with a digit)",
      );
      return true;
    },
  );
  assert.throws(
    () => parseEnvFile("A='secret-value' trailing", "x.env"),
    (error: Error) => {
      assert.equal(error.message, "x.env line 1: A has text after its closing ' quote");
      return true;
    },
  );
  assert.deepEqual(parseEnvFile("A='v' # comment"), { A: "v" });
});

Deno.test("loadEnvFile() gives {} for a missing file and the variables of an existing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.deepEqual(await loadEnvFile(`${dir}/missing.env`), {});
    await Deno.writeTextFile(`${dir}/a.env`, "TMDB_API_TOKEN=abc\n");
    assert.deepEqual(await loadEnvFile(`${dir}/a.env`), { TMDB_API_TOKEN: "abc" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadEnvFile() refuses SUPABASE_ names, naming them but not their values", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.env`;
    await Deno.writeTextFile(path, "OK=1\nSUPABASE_URL=not-shown-1\nSUPABASE_DB_URL=not-shown-2\n");
    await assert.rejects(loadEnvFile(path), (error: Error) => {
      assert.equal(
        error.message,
        `Env file ${path} sets SUPABASE_URL, SUPABASE_DB_URL: names starting with SUPABASE_ ` +
          "are reserved (`supabase secrets set` refuses them too); the host provides " +
          "SUPABASE_* itself. Remove those lines.",
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadEnvFile() says which file it cannot read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadEnvFile(dir), new RegExp(`^Error: Cannot read env file ${dir}: `));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
