import {
  createRootRoute, createRoute, createRouter, lazyRouteComponent, Outlet, redirect,
} from "@tanstack/react-router";
import { z } from "zod";
import { hasSession, onSessionExpired } from "./api/auth";
import { LoginPage } from "./features/login/LoginPage";
import { SearchPage } from "./features/search/SearchPage";
import { parsePatientSearch, parseSearch, stringifySearch } from "./features/search/searchParams";
import { NotFound, RouteError, Shell } from "./layout/Shell";
import { queryClient } from "./queryClient";
import { meQuery } from "./session";

const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: NotFound });

const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/login",
  validateSearch: (raw: Record<string, unknown>): { redirect?: string } =>
    typeof raw.redirect === "string" ? { redirect: raw.redirect } : {},
  component: LoginPage,
});

// Everything behind the login: no session → the login page, which brings you back here.
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  beforeLoad: ({ location }) => {
    if (!hasSession()) throw redirect({ to: "/login", search: { redirect: location.href }, replace: true });
  },
  loader: () => queryClient.ensureQueryData(meQuery),
  component: Shell,
  errorComponent: RouteError,
});

const indexRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/pacientes", replace: true });
  },
});

export const patientsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/pacientes",
  validateSearch: parsePatientSearch,
  component: SearchPage,
});

export const newPatientRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/pacientes/novo",
  component: lazyRouteComponent(() => import("./features/patient/CreatePage"), "CreatePage"),
});

export const TABS = ["dados", "visitas", "confirmacoes", "mensagens", "auditoria"] as const;
export type Tab = (typeof TABS)[number];

export const patientRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/pacientes/$patientId",
  validateSearch: (raw: Record<string, unknown>): { aba?: Tab } => {
    const aba = z.enum(TABS).safeParse(raw.aba);
    return aba.success ? { aba: aba.data } : {};
  },
  component: lazyRouteComponent(() => import("./features/patient/ProfilePage"), "ProfilePage"),
});

const routeTree = rootRoute.addChildren([
  loginRoute,
  appRoute.addChildren([indexRoute, patientsRoute, newPatientRoute, patientRoute]),
]);

export const router = createRouter({
  routeTree,
  parseSearch,
  stringifySearch,
  defaultPreload: "intent",
  // The loader's data lives in TanStack Query; the router need not keep its own copy fresh.
  defaultPreloadStaleTime: 0,
  scrollRestoration: true,
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}

// A 401 the refresh could not cure: back to login, keeping the page you were on.
onSessionExpired(() => {
  queryClient.clear();
  const { pathname, search, hash } = window.location;
  if (pathname === "/login") return;
  void router.navigate({ to: "/login", search: { redirect: pathname + search + hash }, replace: true });
});
