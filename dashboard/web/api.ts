/** The dashboard's JSON API (same origin; the session cookie goes along). */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (res.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(`/${location.hash}`)}`);
    throw new ApiError(401, 'sign in first');
  }
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

export const enc = encodeURIComponent;
