/**
 * The two HTML documents the server writes: the app shell (the browser code draws every page
 * into it) and the sign-in form. Neither holds data; the one value written into them (`next`)
 * is escaped.
 */

/** Text as HTML text or a double-quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const HEAD = `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/assets/app.css">`;

export function appShell(): string {
  return `<!doctype html>
<html lang="en"><head>${HEAD}<title>npf-sweep</title></head>
<body><header class="top"><a class="brand" href="#/">npf-sweep</a><span id="live" class="live" title="live updates">connecting</span></header>
<main id="app"><p class="muted">Loading…</p></main>
<script type="module" src="/assets/app.js"></script></body></html>
`;
}

export function loginPage(next: string, failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head>${HEAD}<title>npf-sweep: sign in</title></head>
<body><header class="top"><span class="brand">npf-sweep</span></header>
<main class="login"><h1>Sign in</h1>
<p>This dashboard needs the coordinator's token (the value of <code>NPF_TOKEN</code>).</p>
${failed ? '<p class="error" role="alert">That token is not the coordinator\'s.</p>' : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form></main></body></html>
`;
}
