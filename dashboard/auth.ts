/**
 * Who may read the dashboard. With a token (always on a coordinator that has one), every request
 * needs either
 *   - `Authorization: Bearer <token>` (scripts, curl), or
 *   - the session cookie `npf_dashboard`, which a browser gets by signing in: the /login form
 *     (POST of the token), or once from a link `...?token=<token>` (the server sets the cookie and
 *     redirects to the same address without the token, so it stays out of the history).
 * The cookie holds HMAC-SHA256(token, "npf-dashboard-session-v1"), not the token: it opens the
 * read-only dashboard and nothing else (the gRPC API wants the token itself). It is HttpOnly and
 * SameSite=Strict, and changes when the token does. Without a token (a local `npf ui` on
 * loopback) nothing is asked.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'npf_dashboard';

/** The cookie value that stands for `token`. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('npf-dashboard-session-v1').digest('hex');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when `given` is the token (constant time). */
export function tokenMatches(token: string, given: string): boolean {
  return same(sessionValue(token), sessionValue(given));
}

/** The value of one cookie of a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Whether a request's headers carry the token or a session for it. Always true without a token. */
export function isAuthorized(headers: IncomingHttpHeaders, token: string | undefined): boolean {
  if (!token) return true;
  const auth = headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return tokenMatches(token, auth.replace(/^Bearer\s+/i, '').trim());
  const cookie = cookieValue(headers.cookie, SESSION_COOKIE);
  return cookie !== undefined && same(cookie, sessionValue(token));
}

/** Set-Cookie value of a session for `token`. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

/** A `next` target after sign-in: a path of this site only (no scheme, no //host). */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : '/';
}
