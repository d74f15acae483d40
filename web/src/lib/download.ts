// Files the API serves behind the bearer token (exports): fetched with the session, then saved from a
// blob, since a plain link would carry no token. Route sheets open through a signed link instead.
import { api, authFetch } from "../api/client";
import { toProblem, unwrap } from "../api/errors";

async function fetchBlob(path: string): Promise<{ blob: Blob; filename: string | null }> {
  const response = await authFetch(new Request(new URL(path, window.location.origin)));
  if (!response.ok) throw toProblem(response.status, await response.json().catch(() => null));
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return { blob: await response.blob(), filename: match ? decodeURIComponent(match[1]!) : null };
}

/** Download an authenticated file under its own name (or `fallback`). */
export async function downloadFile(path: string, fallback: string): Promise<void> {
  const { blob, filename } = await fetchBlob(path);
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename ?? fallback;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Open a car's route sheet in a new tab through a short-lived signed link (POST …/route-sheet/link): the
 * tab opens at the click, before the request, so no popup blocker stops it; the link needs no token, so
 * the page can be printed, reloaded or opened on another device within its five minutes.
 */
export async function openRouteSheet(carId: string, date: string): Promise<void> {
  const tab = window.open("", "_blank");
  if (tab) tab.document.title = "Carregando…";
  try {
    const link = await unwrap(api.POST("/api/v1/cars/{car_id}/route-sheet/link", { params: { path: { car_id: carId }, query: { date } } }));
    const url = new URL(link.url, window.location.origin).href;
    if (tab) tab.location.href = url;
    else window.location.href = url;
  } catch (error) {
    tab?.close();
    throw error;
  }
}
