/**
 * The user's secrets file for the functions (`supabase/functions/.env`): dotenv syntax, read
 * once when the host starts.
 *
 * @module
 */

/** Secret names reserved for the platform: `supabase secrets set` refuses them too. */
export const RESERVED_ENV_PREFIX = "SUPABASE_";

/**
 * Parses a dotenv file: `KEY=value`, `export KEY=value`, `#` comments, blank lines, values in
 * double quotes (with `\n`, `\t`, `\"`, `\\` escapes, may span lines) or single quotes
 * (literal), and `value # comment` for unquoted values. Errors name the line but never show a
 * value (it may be a secret).
 */
export function parseEnvFile(text: string, source = "env file"): Record<string, string> {
  const vars: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    let line = lines[index].trim();
    if (line === "" || line.startsWith("#")) continue;
    if (/^export\s/.test(line)) line = line.replace(/^export\s+/, "");
    const equals = line.indexOf("=");
    if (equals <= 0) {
      throw new Error(
        `${source} line ${lineNumber} is not KEY=VALUE (its content is not shown: it may hold ` +
          `a secret)`,
      );
    }
    const key = line.slice(0, equals).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new Error(
        `${source} line ${lineNumber}: ${JSON.stringify(key)} is not a valid variable name ` +
          `(letters, digits and _, not starting with a digit)`,
      );
    }
    let value = line.slice(equals + 1).trim();
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      let body = value.slice(1);
      let close = findClosingQuote(body, quote);
      while (close < 0 && index + 1 < lines.length) {
        index++;
        body += "\n" + lines[index];
        close = findClosingQuote(body, quote);
      }
      if (close < 0) {
        throw new Error(`${source} line ${lineNumber}: ${key} has an unterminated ${quote} quote`);
      }
      const rest = body.slice(close + 1).trim();
      if (rest !== "" && !rest.startsWith("#")) {
        throw new Error(
          `${source} line ${lineNumber}: ${key} has text after its closing ${quote} quote`,
        );
      }
      value = body.slice(0, close);
      if (quote === '"') {
        value = value.replace(/\\([nrt"\\])/g, (_match, char: string) => {
          const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t" };
          return escapes[char] ?? char;
        });
      }
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    vars[key] = value;
  }
  return vars;
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

/**
 * Reads and parses the env file at `path` ({@linkcode parseEnvFile}); a missing file gives `{}`.
 * Throws if a name starts with `SUPABASE_`: those are the platform's, set by the host itself.
 */
export async function loadEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new Error(`Cannot read env file ${path}: ${(error as Error).message}`);
  }
  const vars = parseEnvFile(text, `Env file ${path}`);
  const reserved = Object.keys(vars).filter((name) => name.startsWith(RESERVED_ENV_PREFIX));
  if (reserved.length > 0) {
    throw new Error(
      `Env file ${path} sets ${reserved.join(", ")}: names starting with ` +
        `${RESERVED_ENV_PREFIX} are reserved (\`supabase secrets set\` refuses them too); the ` +
        `host provides SUPABASE_* itself. Remove ${
          reserved.length === 1 ? "that line" : "those lines"
        }.`,
    );
  }
  return vars;
}
