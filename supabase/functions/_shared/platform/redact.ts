/**
 * Removing secrets from text that leaves the process (log lines, error bodies, stored
 * errors): configured secret values, and credential shapes whatever their value (a
 * `Bearer …` token, an `apikey=…` / `api_key=…` pair, an `sb_secret_…` key, the password of
 * a Postgres URL).
 *
 * @module
 */

/** What a redacted value is replaced with. */
export const REDACTED = "[REDACTED]";

/** Field names whose string values are always secret, whatever they hold. */
const SECRET_KEY_NAME = /^(authorization|apikey|api[_-]?key|password|secret|access[_-]?token)$/i;

/**
 * Credential shapes redacted even when the value is not a configured secret:
 * `Bearer <token>`, `apikey=<v>` / `api_key: <v>`, `sb_secret_…` keys, and the password of a
 * `postgres://user:password@host` URL.
 */
const PATTERNS: readonly [RegExp, string][] = [
  // `(?![<…])`: placeholders in help texts ("Bearer <key>", "apikey: …") stay readable.
  [/\bBearer\s+(?![<…])[^\s"',;]+/gi, `Bearer ${REDACTED}`],
  [/\b(api[_-]?key)(\s*["']?\s*[=:]\s*["']?)(?![<…])[^\s&"',;}]+/gi, `$1$2${REDACTED}`],
  [/\bsb_secret_[A-Za-z0-9_-]+/g, REDACTED],
  [/\b(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, `$1${REDACTED}@`],
];

/**
 * Replaces every occurrence of each secret in `secrets` (longest first, also in its
 * URL-encoded form) and every credential pattern (see module docs) in `text`.
 *
 * @example
 * redactString("token=abc123 sent", ["abc123"]); // "token=[REDACTED] sent"
 */
export function redactString(text: string, secrets: readonly string[] = []): string {
  let out = text;
  const sorted = [...new Set(secrets.filter((s) => typeof s === "string" && s !== ""))]
    .sort((a, b) => b.length - a.length);
  for (const secret of sorted) {
    out = out.split(secret).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A JSON-ready deep copy of `value` with every string redacted by {@link redactString}.
 * `Error`s become `{name, message, stack}`, `bigint`s strings, cycles `"[Circular]"`, and
 * string values under keys such as `authorization` or `apikey` become `[REDACTED]`.
 */
export function redact(value: unknown, secrets: readonly string[] = []): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return redactString(v, secrets);
    if (typeof v === "bigint") return v.toString();
    if (v === null || typeof v !== "object") {
      return typeof v === "function" || typeof v === "symbol" ? undefined : v;
    }
    if (seen.has(v)) return "[Circular]";
    seen.add(v);
    try {
      if (v instanceof Error) {
        const out: Record<string, unknown> = { name: v.name, message: walk(v.message) };
        if (v.stack) out.stack = walk(v.stack);
        return out;
      }
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
      if (Array.isArray(v)) return v.map(walk);
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) {
        out[k] = typeof inner === "string" && SECRET_KEY_NAME.test(k) ? REDACTED : walk(inner);
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value);
}
