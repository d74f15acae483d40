// Dates as the lab lives them: America/Sao_Paulo, shown dd/mm/aaaa, sent YYYY-MM-DD.
export const TIME_ZONE = "America/Sao_Paulo";

const isoDay = new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" });
const dateTime = new Intl.DateTimeFormat("pt-BR", {
  timeZone: TIME_ZONE, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
});
const timeOnly = new Intl.DateTimeFormat("pt-BR", { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit" });

/** Today in São Paulo as YYYY-MM-DD (whatever the browser's own zone). */
export function todayIso(now: Date = new Date()): string {
  return isoDay.format(now);
}

/** YYYY-MM-DD plus `days` (calendar arithmetic, no time zone involved). */
export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d + days));
  return date.toISOString().slice(0, 10);
}

/** Monday and Sunday of the week holding `iso`. */
export function weekOf(iso: string): [string, string] {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = domingo
  const monday = addDays(iso, weekday === 0 ? -6 : 1 - weekday);
  return [monday, addDays(monday, 6)];
}

/** "2025-06-20" → "20/06/2025"; anything else as it came. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return match ? `${match[3]}/${match[2]}/${match[1]}` : iso;
}

/** An ISO timestamp as "20/06/2025 07:20" in São Paulo. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return dateTime.format(new Date(iso)).replace(",", "");
}

/** An ISO timestamp as "07:20" in São Paulo. */
export function formatTime(iso: string | null | undefined): string {
  return iso ? timeOnly.format(new Date(iso)) : "—";
}
