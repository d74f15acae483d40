import { expect, test } from "@playwright/test";
import { expectAccessible, login } from "../helpers";

test.use({ viewport: { width: 390, height: 844 } });

test("a driver sees only their own car's day, in order, with maps links", async ({ page }) => {
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
  // Staff screens are not in a driver's menu.
  await page.getByRole("button", { name: "Abrir menu" }).click();
  const menu = page.getByRole("navigation", { name: "Principal" });
  await expect(menu.getByRole("link")).toHaveText(["Meu dia"]);
  await page.getByRole("button", { name: "Fechar menu" }).click();
  await expectAccessible(page, "motorista");
});
