import {
  createRootRoute, createRoute, createRouter, lazyRouteComponent, Outlet, redirect,
} from "@tanstack/react-router";
import { z } from "zod";
import { hasSession, onSessionExpired } from "./api/auth";
import { LoginPage } from "./features/login/LoginPage";
import { prefetchSearch } from "./features/search/queries";
import { SearchPage } from "./features/search/SearchPage";
import { parsePatientSearch, parseSearch, stringifySearch } from "./features/search/searchParams";
import { NotFound, RouteError, Shell } from "./layout/Shell";
import { queryClient } from "./queryClient";
import {
  adminSearch, boardSearch, bulkJobSearch, confirmationsSearch, dashboardSearch, driverSearch, fleetSearch, importSearch,
} from "./routeSearch";
import { parseBulkListSearch, parseBulkNewSearch } from "./features/bulk/bulkSearch";
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
// The account is awaited in the loader, not in beforeLoad: the screens' loaders run beside it
// (the search's requests leave together with /users/me instead of after it).
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  beforeLoad: ({ location }) => {
    if (!hasSession()) throw redirect({ to: "/login", search: { redirect: location.href }, replace: true });
  },
  loader: async ({ location }) => {
    // A driver has only their own day: a staff address (typed, bookmarked, shared) leads there.
    const me = await queryClient.ensureQueryData(meQuery);
    if (me.role === "driver" && location.pathname !== "/motorista") throw redirect({ to: "/motorista", replace: true });
    return me;
  },
  component: Shell,
  errorComponent: RouteError,
});

const indexRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  // Staff start the day on the dashboard; a driver on their own day.
  beforeLoad: async () => {
    const me = await queryClient.ensureQueryData(meQuery);
    throw redirect({ to: me.role === "driver" ? "/motorista" : "/painel", replace: true });
  },
});

// Each screen is its own chunk: the first screen downloads only itself.
const screen = lazyRouteComponent;

export const dashboardRoute = createRoute({
  getParentRoute: () => appRoute, path: "/painel", validateSearch: dashboardSearch,
  component: screen(() => import("./features/dashboard/DashboardPage"), "DashboardPage"),
});
export const boardRoute = createRoute({
  getParentRoute: () => appRoute, path: "/agenda", validateSearch: boardSearch,
  component: screen(() => import("./features/board/BoardPage"), "BoardPage"),
});
export const confirmationsRoute = createRoute({
  getParentRoute: () => appRoute, path: "/confirmacoes", validateSearch: confirmationsSearch,
  component: screen(() => import("./features/confirmations/ConfirmationsPage"), "ConfirmationsPage"),
});
export const importsRoute = createRoute({
  getParentRoute: () => appRoute, path: "/importacoes",
  component: screen(() => import("./features/imports/ImportsPage"), "ImportsPage"),
});
export const importRoute = createRoute({
  getParentRoute: () => appRoute, path: "/importacoes/$importId", validateSearch: importSearch,
  component: screen(() => import("./features/imports/ImportPage"), "ImportPage"),
});
export const bulkListRoute = createRoute({
  getParentRoute: () => appRoute, path: "/lotes", validateSearch: parseBulkListSearch,
  component: screen(() => import("./features/bulk/BulkListPage"), "BulkListPage"),
});
export const bulkNewRoute = createRoute({
  getParentRoute: () => appRoute, path: "/lotes/novo", validateSearch: parseBulkNewSearch,
  component: screen(() => import("./features/bulk/BulkNewPage"), "BulkNewPage"),
});
export const bulkJobRoute = createRoute({
  getParentRoute: () => appRoute, path: "/lotes/$jobId", validateSearch: bulkJobSearch,
  component: screen(() => import("./features/bulk/BulkJobPage"), "BulkJobPage"),
});
export const fleetRoute = createRoute({
  getParentRoute: () => appRoute, path: "/frota", validateSearch: fleetSearch,
  component: screen(() => import("./features/fleet/FleetPage"), "FleetPage"),
});
export const adminRoute = createRoute({
  getParentRoute: () => appRoute, path: "/admin", validateSearch: adminSearch,
  component: screen(() => import("./features/admin/AdminPage"), "AdminPage"),
});
export const driverRoute = createRoute({
  getParentRoute: () => appRoute, path: "/motorista", validateSearch: driverSearch,
  component: screen(() => import("./features/driver/DriverPage"), "DriverPage"),
});

export const patientsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/pacientes",
  validateSearch: parsePatientSearch,
  // The results leave as the route loads (not when the page first renders); not awaited, so the page
  // shows at once with its own loading states (and a ticked facet at once, dimmed until its answer).
  loaderDeps: ({ search }) => search,
  loader: ({ deps }) => {
    void prefetchSearch(queryClient, deps);
  },
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
  appRoute.addChildren([
    indexRoute, patientsRoute, newPatientRoute, patientRoute, dashboardRoute, boardRoute, confirmationsRoute,
    importsRoute, importRoute, bulkListRoute, bulkNewRoute, bulkJobRoute, fleetRoute, adminRoute, driverRoute,
  ]),
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
