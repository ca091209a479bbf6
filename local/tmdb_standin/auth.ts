/**
 * TMDB's API authentication as the stand-in checks it: the API Read Access Token as
 * `Authorization: Bearer …`, or `?api_key=…`. Secrets are compared in constant time and never
 * leave this module.
 *
 * @module
 */

/** Equal-time string comparison (the token never leaks through timing). */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Accepted credentials; with neither, every request is authorised. */
export interface Credentials {
  /** Accepted Bearer token. */
  token?: string;
  /** Accepted `api_key` query value. */
  apiKey?: string;
}

/**
 * A check of a request's credentials against `credentials` (throws if one of them is an
 * empty string).
 */
export function createAuthorizer(credentials: Credentials): (req: Request, url: URL) => boolean {
  const { token, apiKey } = credentials;
  if (token !== undefined && token.length === 0) throw new Error("token must not be empty");
  if (apiKey !== undefined && apiKey.length === 0) throw new Error("apiKey must not be empty");
  return (req, url) => {
    if (token === undefined && apiKey === undefined) return true;
    const header = req.headers.get("authorization");
    if (token !== undefined && header !== null) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
      if (m && sameSecret(m[1], token)) return true;
    }
    const key = url.searchParams.get("api_key");
    return apiKey !== undefined && key !== null && sameSecret(key, apiKey);
  };
}
