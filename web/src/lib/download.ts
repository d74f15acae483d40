// Files the API serves behind the bearer token (exports, route sheets): fetched with the session,
// then saved or shown from a blob, since a plain link would carry no token.
import { authFetch } from "../api/client";
import { toProblem } from "../api/errors";

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
 * Open an authenticated HTML page (the route sheet) in a new tab. The tab is opened at the click,
 * before the request, so no popup blocker stops it; it shows the page once it arrives.
 */
export async function openHtml(path: string): Promise<void> {
  const tab = window.open("", "_blank");
  if (tab) tab.document.title = "Carregando…";
  try {
    const { blob } = await fetchBlob(path);
    const url = URL.createObjectURL(new Blob([blob], { type: "text/html;charset=utf-8" }));
    if (tab) tab.location.href = url;
    else window.location.href = url;
  } catch (error) {
    tab?.close();
    throw error;
  }
}
