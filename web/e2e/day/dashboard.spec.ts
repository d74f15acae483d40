import { expect, type Page, test } from "@playwright/test";
import { apiGet, expectAccessible, login, spDay } from "../helpers";

async function kpi(page: Page, id: string): Promise<number | null> {
  const value = await page.locator(`[data-kpi="${id}"] [data-value]`).getAttribute("data-value");
  return value === "" || value === null ? null : Number(value);
}

interface CarCount {
  car_id: string | null; label: string | null; base: string | null; visits: number; confirmed: number; collected: number;
  no_show: number; pending: number; declined: number; team: { driver: { name: string }; collector: { name: string } } | null;
}
interface Dashboard {
  visits_today: number; confirmed_today: number; pending_confirmations: number; declined_today: number; no_show_today: number;
  cancelled_today: number; collected_today: number; active_cars: number; no_show_rate: number | null;
  lead_time: { median_days: number | null }; by_car: CarCount[];
}
interface Trend { items: { date: string; visits: number; confirmed: number; no_show: number }[] }
interface Rates { items: { label: string; visits: number; confirmed: number }[] }

const plural = (n: number, one: string, many: string) => `${n.toLocaleString("pt-BR")} ${n === 1 ? one : many}`;
const pct = (part: number, whole: number) => (whole ? `${Math.round((part / whole) * 100)}%` : "—");

test("staff land on the dashboard; logging an attempt in the queue moves its count", async ({ page }) => {
  await login(page, "operator", "/");
  await expect(page).toHaveURL(/\/painel/);
  await expect(page.locator('[data-kpi="visits"] [data-value]')).toBeVisible();
  await expect(page.locator("[data-car]").first()).toBeVisible();
  await expectAccessible(page, "painel");

  const day = spDay(1);
  await page.goto(`/painel?data=${day}`);
  await expect(page.locator('[data-kpi="visits"] [data-value]')).toBeVisible();
  const confirmed = await kpi(page, "confirmed");
  const pending = await kpi(page, "pending");
  expect(pending).toBeGreaterThan(0);
  if (confirmed === null || pending === null) throw new Error("KPIs sem valor");

  await page.getByRole("navigation", { name: "Principal" }).getByRole("link", { name: "Confirmações" }).click();
  await expect(page.getByRole("heading", { name: "A confirmar amanhã" })).toBeVisible();
  await expectAccessible(page, "confirmações");
  const queue = page.getByTestId("queue");
  const row = queue.locator("[data-visit-id]").first();
  const visitId = await row.getAttribute("data-visit-id");
  const count = Number(await page.getByTestId("queue-count").getAttribute("data-value"));
  expect(count).toBe(pending);
  await row.getByRole("button", { name: "Confirmou" }).click();
  await expect(page.getByTestId("last-done")).toContainText("Confirmou (");
  // A confirmed visit leaves the queue (read from PostgreSQL) and its count.
  await expect(queue.locator(`[data-visit-id="${visitId}"]`)).toHaveCount(0);
  await expect(page.getByTestId("queue-count")).toHaveAttribute("data-value", String(pending - 1));

  await page.goto(`/painel?data=${day}`);
  await expect.poll(() => kpi(page, "confirmed"), { timeout: 20_000 }).toBe(confirmed + 1);
  expect(await kpi(page, "pending")).toBe(pending - 1);
});

test("rates by group and period live in the URL", async ({ page }) => {
  await login(page, "operator", "/painel");
  await page.getByRole("radiogroup", { name: "Agrupar por" }).getByText("Bairro").click();
  await expect(page).toHaveURL(/grupo=neighborhood/);
  await page.getByRole("radiogroup", { name: "Período", exact: true }).getByText("7 dias").click();
  await expect(page).toHaveURL(/periodo=7/);
  await expect(page.getByTestId("rates-table")).toBeVisible();
  await page.getByRole("radiogroup", { name: "Período da tendência" }).getByText("90 dias").click();
  await expect(page).toHaveURL(/tendencia=90/);
  await page.getByRole("heading", { name: "Últimos 90 dias" }).scrollIntoViewIfNeeded();
  await expect(page.getByTestId("trend-table").locator("tbody tr")).toHaveCount(90);
  await expect(page.locator(".recharts-surface").first()).toBeVisible();
  await expectAccessible(page, "painel: taxas e tendência");
});

test("every number on the dashboard is the API's: KPIs, car cards, rates and the 7-day trend", async ({ page, request }) => {
  await login(page, "viewer", "/painel");
  for (const day of [spDay(-1), spDay(0), spDay(1)]) {
    await page.goto(`/painel?data=${day}`);
    // Read the API, then the screen; a second read of the API must agree (nothing moved in between).
    await expect(async () => {
      const dash = await apiGet<Dashboard>(request, "viewer", `/api/v1/stats/dashboard?date=${day}`);
      await page.reload();
      await expect(page.locator('[data-kpi="visits"] [data-value]')).toBeVisible();
      const expected: Record<string, number | null> = {
        visits: dash.visits_today, confirmed: dash.confirmed_today, pending: dash.pending_confirmations,
        declined: dash.declined_today, cancelled: dash.cancelled_today, collected: dash.collected_today,
        no_show: dash.no_show_today, no_show_rate: dash.no_show_rate, lead_time: dash.lead_time.median_days, cars: dash.active_cars,
      };
      const shown: Record<string, number | null> = {};
      for (const id of Object.keys(expected)) shown[id] = await kpi(page, id);
      expect(shown, `KPIs de ${day}`).toEqual(expected);
      expect(dash.visits_today, `o dia ${day} tem visitas`).toBeGreaterThan(0);
      await expect(page.locator('[data-kpi="confirmed"]')).toContainText(pct(dash.confirmed_today, dash.visits_today));

      const cars = dash.by_car.filter((c) => c.visits > 0);
      await expect(page.locator("[data-car]")).toHaveCount(cars.length);
      for (const car of cars) {
        const card = page.locator(`[data-car="${car.car_id ?? ""}"]`);
        await expect(card).toContainText(`${car.label} · ${car.base}`);
        await expect(card).toContainText(
          `${plural(car.visits, "visita", "visitas")}, ${plural(car.confirmed, "confirmada", "confirmadas")} (${pct(car.confirmed, car.visits)})`);
        await expect(card).toContainText(`${car.collected + car.no_show} de ${car.visits} atendidas (${car.collected} coletadas, ${car.no_show} ausentes)`);
        await expect(card).toContainText(car.team ? `Motorista: ${car.team.driver.name} · Coletora: ${car.team.collector.name}` : "Sem equipe definida");
      }
      expect(await apiGet<Dashboard>(request, "viewer", `/api/v1/stats/dashboard?date=${day}`)).toEqual(dash);
    }).toPass({ timeout: 30_000 });
  }

  // The rates table (30 days to today, by channel) and the trend table: row by row.
  await page.goto("/painel");
  const today = spDay(0);
  const rates = await apiGet<Rates>(request, "viewer",
    `/api/v1/stats/confirmation-rates?group_by=channel&visit_from=${spDay(-29)}&visit_to=${today}`);
  const rows = page.getByTestId("rates-table").locator("tbody tr");
  await expect(rows).toHaveCount(rates.items.length);
  for (const [i, item] of rates.items.entries()) {
    await expect(rows.nth(i).locator("td")).toHaveText([item.label, String(item.visits), String(item.confirmed), pct(item.confirmed, item.visits)]);
  }
  // The trend (30 days to today): every row is the API's, and today's row is today's dashboard.
  await page.getByRole("heading", { name: "Últimos 30 dias" }).scrollIntoViewIfNeeded();
  const trend = await apiGet<Trend>(request, "viewer", `/api/v1/stats/trend?visit_from=${spDay(-29)}&visit_to=${today}`);
  expect(trend.items).toHaveLength(30);
  await expect(page.getByTestId("trend-table").locator("tbody tr")).toHaveCount(30);
  for (const item of trend.items) {
    await expect(page.locator(`[data-trend-day="${item.date}"] td`).first()).toHaveText(`${item.date.slice(8, 10)}/${item.date.slice(5, 7)}`);
    await expect(page.locator(`[data-trend-day="${item.date}"] td`).nth(1)).toHaveText(String(item.visits));
    await expect(page.locator(`[data-trend-day="${item.date}"] td`).nth(2)).toHaveText(String(item.confirmed));
    await expect(page.locator(`[data-trend-day="${item.date}"] td`).nth(3)).toHaveText(String(item.no_show));
  }
  const dash = await apiGet<Dashboard>(request, "viewer", `/api/v1/stats/dashboard?date=${today}`);
  expect(trend.items.at(-1)).toMatchObject({ date: today, visits: dash.visits_today, confirmed: dash.confirmed_today, no_show: dash.no_show_today });
});
