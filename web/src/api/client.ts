// The typed client (openapi-fetch over the generated `paths`) with the session's bearer token.
import createClient from "openapi-fetch";
import { accessToken, renewAfterRejection, sessionExpired } from "./auth";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** fetch with the bearer token; a 401 refreshes once and retries, a second 401 ends the session. */
export async function authFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const token = await accessToken();
  if (!token) {
    sessionExpired();
    return new Response(JSON.stringify({ error: { code: "not_authenticated", message: "Sessão encerrada: entre novamente." } }), {
      status: 401, headers: { "Content-Type": "application/json" },
    });
  }
  input.headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(input);
  if (response.status !== 401) return response;
  const renewed = await renewAfterRejection(token);
  if (!renewed) {
    sessionExpired();
    return response;
  }
  retry.headers.set("Authorization", `Bearer ${renewed}`);
  const second = await fetch(retry);
  if (second.status === 401) sessionExpired();
  return second;
}

export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "http://localhost" : window.location.origin,
  fetch: authFetch,
  // Repeated parameters (car=A&car=B): OR within a filter, as the API reads them.
  querySerializer: { array: { style: "form", explode: true } },
});
