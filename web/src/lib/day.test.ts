import { describe, expect, it } from "vitest";
import { parseBulkNewSearch } from "../features/bulk/bulkSearch";
import { boardSearch, dashboardSearch, importSearch } from "../routeSearch";
import { hhmm, localDateTime, localDay, localMinutes } from "./dates";

describe("São Paulo wall-clock times", () => {
  it("reads minutes and days in São Paulo whatever the offset written", () => {
    expect(localMinutes("2026-12-07T09:40:00Z")).toBe(6 * 60 + 40);
    expect(localMinutes("2026-12-07T06:40:00-03:00")).toBe(400);
    expect(localDay("2026-12-08T01:30:00Z")).toBe("2026-12-07");
    expect(hhmm(440)).toBe("07:20");
    expect(localDateTime("2026-12-07", 440)).toBe("2026-12-07T07:20:00");
  });
});

describe("the day screens' URL state", () => {
  it("keeps what it knows and drops what it cannot use", () => {
    expect(dashboardSearch({ data: "2026-12-07", unidade: "248", periodo: "90", grupo: "hour", tendencia: "7" }))
      .toEqual({ data: "2026-12-07", unidade: "248", periodo: "90", grupo: "hour", tendencia: "7" });
    expect(dashboardSearch({ data: "07/12/2026", periodo: "12", grupo: "color", tendencia: "365" })).toEqual({});
    expect(boardSearch({ visita: "abc", nova: "true", selecao: ["a", "b"] })).toEqual({ visita: "abc", nova: true, selecao: ["a", "b"] });
    expect(boardSearch({ selecao: "a" })).toEqual({ selecao: ["a"] });
    expect(importSearch({ nivel: "skipped", codigo: "empty_room", mudanca: "missing", dia: "2026-12-07", carro: "c1" }))
      .toEqual({ nivel: "skipped", codigo: "empty_room", mudanca: "missing", dia: "2026-12-07", carro: "c1" });
    expect(importSearch({ nivel: "fatal", mudanca: "deleted", dia: "ontem", pagina: "3" })).toEqual({});
  });
  it("a bulk job's target: a patient search or the visits picked", () => {
    expect(parseBulkNewSearch({ neighborhood: "copacabana", periodo: "amanha", acao: "export" }))
      .toEqual({ neighborhood: ["copacabana"], periodo: "amanha", acao: "export" });
    expect(parseBulkNewSearch({ visita: ["v1", "v2"], acao: "explode" })).toEqual({ visita: ["v1", "v2"] });
  });
});
