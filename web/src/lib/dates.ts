// Dates as the lab lives them: America/Sao_Paulo, shown dd/mm/aaaa, sent YYYY-MM-DD.
export const TIME_ZONE = "America/Sao_Paulo";

const isoDay = new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" });
const dateTime = new Intl.DateTimeFormat("pt-BR", {
  timeZone: TIME_ZONE, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
});
const timeOnly = new Intl.DateTimeFormat("pt-BR", { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit" });

/** Today in São Paulo as YYYY-MM-DD (whatever the browser's own zone). */
export function todayIso(now: Date = new Date()): string {
  // Formatting in a time zone is slow and the search asks on every render: the day, kept for the minute.
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== today.minute) today = { minute, day: isoDay.format(now) };
  return today.day;
}
let today = { minute: NaN, day: "" };

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

const parts = new Intl.DateTimeFormat("en-GB", { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** Minutes since midnight in São Paulo of an ISO timestamp (07:20 → 440). */
export function localMinutes(iso: string): number {
  const [h, m] = parts.format(new Date(iso)).split(":").map(Number) as [number, number];
  return h * 60 + m;
}

/** The São Paulo day of an ISO timestamp, YYYY-MM-DD. */
export function localDay(iso: string): string {
  return todayIso(new Date(iso));
}

/** 440 → "07:20". */
export function hhmm(minutes: number): string {
  const h = Math.floor(minutes / 60);
  return `${String(h).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** A São Paulo wall-clock time as the API reads it (no offset: the API takes it as America/Sao_Paulo). */
export function localDateTime(day: string, minutes: number): string {
  return `${day}T${hhmm(minutes)}:00`;
}

/** "segunda-feira, 07/12/2026" for a YYYY-MM-DD. */
export function formatLongDate(iso: string): string {
  const [y, m, d] = iso.split("-").map(Number) as [number, number, number];
  const weekday = new Intl.DateTimeFormat("pt-BR", { weekday: "long", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
  return `${weekday}, ${formatDate(iso)}`;
}

export const isoDateRe = /^\d{4}-\d{2}-\d{2}$/;
