import { describe, expect, it } from "vitest";
import { formPath } from "../features/patient/PatientForm";
import { apiQuery, parsePatientSearch, parseSearch, stringifySearch, visitRange } from "../features/search/searchParams";
import { addDays, formatDate, todayIso, weekOf } from "./dates";
import { formatCpf, formatPhone, maskCpf, maskPhone } from "./format";

describe("dates in São Paulo", () => {
  it("today is the São Paulo day, not UTC's", () => {
    // 02:30 UTC on the 7th is still 23:30 of the 6th in São Paulo (UTC−3).
    expect(todayIso(new Date("2026-12-07T02:30:00Z"))).toBe("2026-12-06");
  });
  it("weeks run Monday to Sunday; dates read dd/mm/aaaa", () => {
    expect(weekOf("2026-12-06")).toEqual(["2026-11-30", "2026-12-06"]); // a Sunday
    expect(weekOf("2026-12-07")).toEqual(["2026-12-07", "2026-12-13"]);
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(formatDate("2025-06-20")).toBe("20/06/2025");
  });
});

describe("identifiers", () => {
  it("formats and masks CPF and phones", () => {
    expect(formatCpf("52998224725")).toBe("529.982.247-25");
    expect(maskCpf("52998224725")).toBe("***.982.247-**");
    expect(formatCpf("***.982.247-**")).toBe("***.982.247-**");
    expect(formatPhone("21987654321")).toBe("(21) 98765-4321");
    expect(formatPhone("2125551234")).toBe("(21) 2555-1234");
    expect(maskPhone("21987654321")).toBe("(21) *****-4321");
    expect(formatPhone("(21) *****-4321")).toBe("(21) *****-4321");
  });
});

describe("search state in the URL", () => {
  it("round-trips repeated parameters and drops what it cannot use", () => {
    const url = stringifySearch({ q: "maria", car: ["CARRO 1", "CARRO 2"], neighborhood: ["Tijuca"], recorrentes: true });
    expect(url).toBe("?q=maria&car=CARRO+1&car=CARRO+2&neighborhood=Tijuca&recorrentes=true");
    const parsed = parsePatientSearch(parseSearch(url + "&ordem=bogus&periodo=nunca&de=20-06-2025"));
    expect(parsed).toEqual({ q: "maria", car: ["CARRO 1", "CARRO 2"], neighborhood: ["Tijuca"], recorrentes: true });
  });
  it("presets are relative to today", () => {
    const today = "2026-12-09"; // a Wednesday
    expect(visitRange({ periodo: "amanha" }, today)).toEqual({ from: "2026-12-10", to: "2026-12-10" });
    expect(visitRange({ periodo: "semana" }, today)).toEqual({ from: "2026-12-07", to: "2026-12-13" });
    expect(visitRange({ periodo: "personalizado", de: "2026-12-01" }, today)).toEqual({ from: "2026-12-01", to: undefined });
    expect(apiQuery({ periodo: "hoje", confirmation_status: ["pending"] }, today)).toMatchObject({
      visit_from: today, visit_to: today, confirmation_status: ["pending"], sort: "name",
    });
  });
});

describe("API errors to form fields", () => {
  it("maps pydantic and domain paths to the form's", () => {
    expect(formPath("body.address.zip_code")).toBe("address.zip_code");
    expect(formPath("phones[1]")).toBe("phones.1.number");
    expect(formPath("body.phones.0.str")).toBe("phones.0.number");
    expect(formPath("body.phones.0.PhoneIn.kind")).toBe("phones.0.kind");
    expect(formPath("cpf")).toBe("cpf");
  });
});

describe("after login", () => {
  it("follows only paths of this app", async () => {
    const { safeRedirect } = await import("../features/login/redirect");
    expect(safeRedirect("/pacientes?q=ana")).toBe("/pacientes?q=ana");
    for (const bad of ["//evil.example", "https://evil.example", "/login?redirect=/x", undefined, 42]) {
      expect(safeRedirect(bad)).toBe("/");
    }
  });
});
