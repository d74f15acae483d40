import { expect, test } from "@playwright/test";
import { expectAccessible, login } from "../helpers";

test("drag a visit onto a taken slot: the API refuses, the card snaps back and the clash is named", async ({ page }) => {
  await login(page, "operator", "/agenda");
  await expect(page).toHaveURL(/\/agenda/);
  const board = page.getByTestId("board");
  await expect(board.locator("[data-visit-id]").first()).toBeVisible();
  await expectAccessible(page, "agenda");

  // Today: CARRO 1 and CARRO 2 both have a visit at 06:40 (the seed books each car from 06:40).
  const carHeads = board.locator("[data-car-head]").filter({ hasText: "AV CENTER 1" });
  const first = await carHeads.nth(0).getAttribute("data-car-head");
  const second = await carHeads.nth(1).getAttribute("data-car-head");
  await expect(carHeads.nth(0)).toContainText("CARRO 1");
  await expect(carHeads.nth(1)).toContainText("CARRO 2");
  const card = board.locator(`[data-car="${first}"] [data-visit-id]`).first();
  const taken = board.locator(`[data-car="${second}"] [data-visit-id]`).first();
  await expect(card).toContainText("06:40");
  await expect(taken).toContainText("06:40");
  const takenName = (await taken.getByRole("button").getAttribute("aria-label"))!.split(", ")[1]!;
  const visitId = await card.getAttribute("data-visit-id");

  const from = (await card.boundingBox())!;
  const to = (await taken.boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + 10);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 20, from.y + 12, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, from.y + 10, { steps: 12 });
  await page.mouse.up();

  const conflict = page.getByTestId("board-conflict");
  await expect(conflict).toBeVisible();
  await expect(conflict).toContainText("CARRO 2");
  await expect(conflict).toContainText(`Conflito com: ${takenName}, 06:40–07:20`);
  // Back in its own column at its own time.
  await expect(board.locator(`[data-car="${first}"] [data-visit-id="${visitId}"]`)).toContainText("06:40");
  await expectAccessible(page, "agenda com conflito");
});

test("click a visit for its details, history and the attempt form; the URL keeps it open", async ({ page }) => {
  await login(page, "operator", "/agenda");
  const card = page.getByTestId("board").locator("[data-visit-id]").first();
  await card.getByRole("button").click();
  await expect(page).toHaveURL(/visita=/);
  const details = page.getByTestId("visit-details");
  await expect(details).toBeVisible();
  await expect(details.getByText("Visita registrada")).toBeVisible();
  await expect(details.getByRole("button", { name: "Registrar tentativa" })).toBeVisible();
  await expectAccessible(page, "detalhes da visita");
  await page.reload();
  await expect(page.getByTestId("visit-details")).toBeVisible();
  await page.getByRole("button", { name: "Fechar", exact: true }).click();
  await expect(page).not.toHaveURL(/visita=/);
});

test("book a visit by hand", async ({ page }) => {
  await login(page, "operator", "/agenda");
  await page.getByRole("button", { name: "Nova visita" }).click();
  const dialog = page.getByRole("dialog", { name: "Nova visita" });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Paciente").pressSequentially("benedita", { delay: 30 });
  await page.getByRole("option", { name: /Benedita/ }).first().click();
  await dialog.getByRole("combobox", { name: "Carro" }).click();
  await page.getByRole("option", { name: /^CARRO 3 · AV CENTER 1/ }).click();
  await dialog.getByRole("combobox", { name: "Início" }).fill("11:20");
  await page.getByRole("option", { name: "11:20" }).click();
  await expectAccessible(page, "nova visita");
  await dialog.getByRole("button", { name: "Agendar" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("board").getByRole("button", { name: /^11:20–12:00, Benedita/ })).toBeVisible();
});

test("the keyboard's way to move a visit: Tab to a card (focus drawn), Enter, reschedule in the drawer", async ({ page }) => {
  await login(page, "operator", "/agenda");
  const board = page.getByTestId("board");
  await expect(board.locator("[data-visit-id]").first()).toBeVisible();
  await page.getByRole("button", { name: "Nova visita" }).focus();
  const focusedLabel = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "");
  // Tab from the toolbar, through the board's cards, to CARRO 3's first visit of the day.
  for (let i = 0; i < 60 && !/^06:40–07:20, .*, CARRO 3 · AV CENTER 1,/.test(await focusedLabel()); i++) await page.keyboard.press("Tab");
  const label = await focusedLabel();
  expect(label).toMatch(/^06:40–07:20, .*, CARRO 3 · AV CENTER 1,/);
  const card = board.locator("[data-visit-id]").filter({ has: page.getByRole("button", { name: label, exact: true }) });
  const visitId = await card.getAttribute("data-visit-id");
  await expect(card).toHaveCSS("outline-style", "solid");

  await page.keyboard.press("Enter");
  const details = page.getByTestId("visit-details");
  await expect(details).toBeVisible();
  const start = details.getByRole("combobox", { name: "Início" });
  for (let i = 0; i < 30 && !(await start.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
  await expect(start).toBeFocused();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("12:40");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(start).toHaveValue("12:40");
  const submit = details.getByRole("button", { name: "Remarcar" });
  for (let i = 0; i < 10 && !(await submit.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
  await expect(submit).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(details.getByRole("status").filter({ hasText: "Visita remarcada." })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(details).toBeHidden();
  await expect(board.locator(`[data-visit-id="${visitId}"]`)).toContainText("12:40–13:20");
  // The drawer fades out after its content is hidden: axe would measure its title mid-fade.
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expectAccessible(page, "agenda depois de remarcar pelo teclado");
});
