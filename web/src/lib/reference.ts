// Reference lists the screens share (cars, units, people, teams): one request each, cached a while.
import { queryOptions } from "@tanstack/react-query";
import { api, type Schemas } from "../api/client";
import { unwrap } from "../api/errors";
import { carName } from "./labels";

export type Car = Schemas["CarRead"];
export type Team = Schemas["TeamRead"];

// A lab's reference lists fit in one page of 500 (the API's own note on ListLimit).
export const carsQuery = queryOptions({
  queryKey: ["cars"],
  queryFn: ({ signal }) => unwrap(api.GET("/api/v1/cars", { params: { query: { limit: 500 } }, signal })),
  staleTime: 60_000,
});

export const driversQuery = queryOptions({
  queryKey: ["drivers"],
  queryFn: ({ signal }) => unwrap(api.GET("/api/v1/drivers", { params: { query: { limit: 500 } }, signal })),
  staleTime: 60_000,
});

export const collectorsQuery = queryOptions({
  queryKey: ["collectors"],
  queryFn: ({ signal }) => unwrap(api.GET("/api/v1/collectors", { params: { query: { limit: 500 } }, signal })),
  staleTime: 60_000,
});

export function teamsQuery(date: string) {
  return queryOptions({
    queryKey: ["teams", date],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/teams", { params: { query: { date, limit: 500 } }, signal })),
    staleTime: 15_000,
  });
}

/** The lab's units (code, usual name, active cars), from the cars' agendas. */
export const unitsQuery = queryOptions({
  queryKey: ["units"],
  queryFn: ({ signal }) => unwrap(api.GET("/api/v1/units", { params: { query: { limit: 500 } }, signal })),
  staleTime: 60_000,
});

/** A car as a select option: its label, base and unit (labels repeat across bases). */
export function carOption(car: Car): { value: string; label: string } {
  const unit = car.unit_name ? ` (${car.unit_name})` : "";
  return { value: car.id, label: `${carName(car.label, car.base)}${unit}` };
}

/** Cars in natural label order (CARRO 2 before CARRO 10), then base. */
export function byLabel<T extends { label?: string | null; base?: string | null }>(a: T, b: T): number {
  return (a.label ?? "").localeCompare(b.label ?? "", "pt-BR", { numeric: true })
    || (a.base ?? "").localeCompare(b.base ?? "", "pt-BR", { numeric: true });
}
