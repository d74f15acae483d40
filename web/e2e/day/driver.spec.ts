import { expect, test } from "@playwright/test";
import { apiGet, expectAccessible, login, spDay } from "../helpers";

test.use({ viewport: { width: 390, height: 844 } });

test("a driver sees only their own car's day, in order, with maps links", async ({ page, request }) => {
  await login(page, "driver", "/");
  await expect(page).toHaveURL(/\/motorista/);
  await expect(page.getByTestId("driver-car")).toContainText("CARRO 1 · AV CENTER 1");
  const stops = page.getByTestId("driver-visits").locator("[data-visit-id]");
  // The seed gives CARRO 1 three visits today (06:40, 07:20, 08:00); CARRO 2 and 3 have theirs too.
  await expect(stops).toHaveCount(3);
  await expect(stops.nth(0)).toContainText("1. 06:40");
  await expect(stops.nth(2)).toContainText("3. 08:00");
  await expect(stops.first().getByRole("link", { name: "Abrir no mapa" })).toHaveAttribute("href", /google\.com\/maps/);
  await expect(stops.first().getByRole("button", { name: "Coletado" })).toBeVisible();
  // The patient's phone, dialable, with its kind (the seed's phones are mobiles).
  await expect(stops.first().locator('a[href^="tel:+55"]')).toContainText("Celular");
  // Exactly CARRO 1's live visits of the staff schedule, none of another car's.
  interface Day { cars: { car: string | null; car_base: string | null; visits: { id: string; status: string }[] }[] }
  const staff = await apiGet<Day>(request, "operator", `/api/v1/visits?date=${spDay(0)}`);
  const ids = (car: string) => staff.cars.filter((c) => c.car === car && c.car_base === "AV CENTER 1")
    .flatMap((c) => c.visits).filter((v) => v.status !== "cancelled").map((v) => v.id);
  expect((await stops.evaluateAll((els) => els.map((e) => e.getAttribute("data-visit-id")))).sort()).toEqual(ids("CARRO 1").sort());
  expect(ids("CARRO 2").length).toBeGreaterThan(0);
  const own = await apiGet<Day>(request, "driver", `/api/v1/visits?date=${spDay(0)}`);
  expect(own.cars.map((c) => c.car)).toEqual(["CARRO 1"]);
  // A staff address leads back to the driver's own day.
  for (const path of ["/agenda", "/painel", "/pacientes"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/motorista$/);
  }
  await expect(stops).toHaveCount(3);
  // At the door: the first stop collected, the second a no-show; both stay on the list with their new state.
  await stops.nth(0).getByRole("button", { name: "Coletado" }).click();
  await expect(stops.nth(0)).toContainText("Coletada");
  await expect(stops.nth(0).getByRole("button", { name: "Coletado" })).toHaveCount(0);
  await stops.nth(1).getByRole("button", { name: "Ausente" }).click();
  await expect(stops.nth(1)).toContainText("Paciente ausente");
  const statuses = async () => (await apiGet<Day>(request, "operator", `/api/v1/visits?date=${spDay(0)}`)).cars
    .filter((c) => c.car === "CARRO 1" && c.car_base === "AV CENTER 1").flatMap((c) => c.visits).map((v) => v.status).sort();
  // The staff schedule reads the index, a second behind PostgreSQL.
  await expect.poll(statuses).toEqual(["collected", "no_show", "scheduled"]);
  // Staff screens are not in a driver's menu.
  await page.getByRole("button", { name: "Abrir menu" }).click();
  const menu = page.getByRole("navigation", { name: "Principal" });
  await expect(menu.getByRole("link")).toHaveText(["Meu dia"]);
  await page.getByRole("button", { name: "Fechar menu" }).click();
  await expectAccessible(page, "motorista");
});
