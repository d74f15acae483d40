// The session: an access token (short) and a refresh token (single use: a replay revokes every
// session of the account). Kept in localStorage so tabs share it; refreshed under a Web Lock so
// two tabs (or two requests) never spend the same refresh token twice.
import { toProblem } from "./errors";

export interface Session {
  accessToken: string;
  accessExpiresAt: number; // epoch ms
  refreshToken: string;
  refreshExpiresAt: number;
}

interface TokenBody {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

const KEY = "coleta.session";
// Refresh this long before the access token expires, so a request never carries a dying token.
const EARLY_MS = 60_000;

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    return session.refreshExpiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

function saveSession(body: TokenBody): Session {
  const now = Date.now();
  const session: Session = {
    accessToken: body.access_token,
    accessExpiresAt: now + body.expires_in * 1000,
    refreshToken: body.refresh_token,
    refreshExpiresAt: now + body.refresh_expires_in * 1000,
  };
  localStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

export function hasSession(): boolean {
  return loadSession() !== null;
}

/** Sign in; throws an ApiProblem (401 invalid_credentials, 429 throttled…). */
export async function login(email: string, password: string): Promise<Session> {
  const response = await fetch("/api/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: email, password }),
  }).catch(() => null);
  if (!response) throw toProblem(0, null);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw toProblem(response.status, body);
  return saveSession(body as TokenBody);
}

let inFlight: Promise<Session | null> | null = null;

/** Exchange the refresh token for a new pair once, whoever asks; null when the session is over. */
export function refreshSession(): Promise<Session | null> {
  inFlight ??= withLock(async () => {
    const before = loadSession();
    if (!before) return null;
    // Another tab may have refreshed while we waited for the lock: use its tokens.
    if (before.accessExpiresAt - EARLY_MS > Date.now()) return before;
    const response = await fetch("/api/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: before.refreshToken }),
    }).catch(() => null);
    if (!response) return before; // offline: keep the session, the request will say so
    if (!response.ok) {
      clearSession();
      return null;
    }
    return saveSession((await response.json()) as TokenBody);
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

/** A usable access token, refreshed first when it is about to expire; null when signed out. */
export async function accessToken(): Promise<string | null> {
  const session = loadSession();
  if (!session) return null;
  if (session.accessExpiresAt - EARLY_MS > Date.now()) return session.accessToken;
  return (await refreshSession())?.accessToken ?? null;
}

/** Force a refresh (the API said 401 to a token we thought valid); the new token or null. */
export async function renewAfterRejection(rejected: string): Promise<string | null> {
  const session = loadSession();
  if (session && session.accessToken !== rejected) return session.accessToken;
  if (session) localStorage.setItem(KEY, JSON.stringify({ ...session, accessExpiresAt: 0 }));
  return (await refreshSession())?.accessToken ?? null;
}

function withLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? (locks.request("coleta-refresh", task) as Promise<T>) : task();
}

let expiredHandler: () => void = () => {};

/** What to do when the session ends under a request (set by the router: back to login, keeping the URL). */
export function onSessionExpired(handler: () => void): void {
  expiredHandler = handler;
}

export function sessionExpired(): void {
  clearSession();
  expiredHandler();
}
