import {
  Card, Group, Paper, Progress, SegmentedControl, SimpleGrid, Skeleton, Stack, Table, Text, Title,
} from "@mantine/core";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import "@mantine/charts/styles.css";
import { BarsList } from "@mantine/charts";
import { useIntersection } from "@mantine/hooks";
import { lazy, Suspense, useEffect, useState } from "react";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";
import { DayPicker, UnitPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { addDays, formatDate, formatLongDate, todayIso } from "../../lib/dates";
import { formatCount, plural } from "../../lib/format";
import { carName, rateGroupLabel } from "../../lib/labels";
import { teamsQuery } from "../../lib/reference";
import { AnchorLink } from "../../lib/links";
import { PERIODS, RATE_GROUPS, type DashboardSearch } from "../../routeSearch";
import { isLive, scheduleQuery } from "../board/queries";

const TrendChart = lazy(() => import("./Charts").then((m) => ({ default: m.TrendChart })));

type Dashboard = Schemas["DashboardRead"];

// The index follows PostgreSQL within a second: while the tab is visible the numbers are asked again every few seconds.
const LIVE = { staleTime: 0, refetchInterval: 10_000 } as const;

export function dashboardQuery(date: string, unit?: string) {
  return {
    queryKey: ["stats", "dashboard", date, unit ?? null],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      unwrap(api.GET("/api/v1/stats/dashboard", { params: { query: { date, unit } }, signal })),
  };
}

const pct = (part: number, whole: number) => (whole ? `${Math.round((part / whole) * 100)}%` : "—");

export function DashboardPage() {
  const search = useSearch({ from: "/app/painel" });
  const navigate = useNavigate({ from: "/painel" });
  const date = search.data ?? todayIso();
  const update = (patch: Partial<DashboardSearch>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true });
  const dash = useQuery({ ...dashboardQuery(date, search.unidade), ...LIVE });

  return (
    <Stack gap="lg" maw={1400} mx="auto">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={1} size="h2">Painel do dia</Title>
          <Text c="dimmed" size="sm">{formatLongDate(date)}</Text>
        </div>
        <Group gap="sm" align="flex-end">
          <DayPicker value={date} onChange={(d) => update({ data: d === todayIso() ? undefined : d })} />
          <UnitPicker value={search.unidade} onChange={(u) => update({ unidade: u })} />
        </Group>
      </Group>
      {dash.error ? <Problem error={dash.error} retry={() => void dash.refetch()} /> : dash.isPending ? <Loading label="Carregando números do dia" /> : (
        <>
          <Kpis dash={dash.data} />
          <CarCards dash={dash.data} date={date} unit={search.unidade} />
        </>
      )}
      <Rates date={date} search={search} update={update} />
      <Trend date={date} unit={search.unidade} />
    </Stack>
  );
}

function Kpi({ id, label, value, hint, color }: { id: string; label: string; value: number; hint?: string; color?: string }) {
  return (
    <Paper withBorder p="sm" radius="md" data-kpi={id}>
      <Text size="sm" c="dimmed" fw={500}>{label}</Text>
      <Text fz={28} fw={700} c={color} data-value={value}>{formatCount(value)}</Text>
      {hint && <Text size="xs" c="dimmed">{hint}</Text>}
    </Paper>
  );
}

function Kpis({ dash }: { dash: Dashboard }) {
  const status = (s: string) => dash.by_status.find((b) => b.value === s)?.count ?? 0;
  const cars = dash.by_car.filter((c) => c.car_id && c.visits > 0).length;
  const v = dash.visits_today;
  return (
    <section aria-label="Números do dia">
      <SimpleGrid cols={{ base: 2, sm: 4, lg: 8 }} spacing="sm">
        <Kpi id="visits" label="Visitas" value={v} hint="sem as canceladas" />
        <Kpi id="confirmed" label="Confirmadas" value={dash.confirmed_today} hint={pct(dash.confirmed_today, v)} color="teal.9" />
        <Kpi id="pending" label="Pendentes" value={dash.pending_confirmations} hint={pct(dash.pending_confirmations, v)} color="#8a4a00" />
        <Kpi id="declined" label="Recusadas" value={dash.declined_today} hint={pct(dash.declined_today, v)} color="red.9" />
        <Kpi id="cancelled" label="Canceladas" value={status("cancelled")} />
        <Kpi id="collected" label="Coletadas" value={status("collected")} hint={pct(status("collected"), v)} />
        <Kpi id="no_show" label="Ausentes" value={dash.no_show_today} hint={pct(dash.no_show_today, v)} color="#98320a" />
        <Kpi id="cars" label="Carros em rota" value={cars} />
      </SimpleGrid>
    </section>
  );
}

function CarCards({ dash, date, unit }: { dash: Dashboard; date: string; unit?: string }) {
  const schedule = useQuery({ ...scheduleQuery(date, unit), ...LIVE });
  const teams = useQuery(teamsQuery(date));
  const cars = dash.by_car.filter((c) => c.visits > 0);
  if (!cars.length) return <Text c="dimmed">Nenhuma visita neste dia{unit ? " nesta unidade" : ""}.</Text>;
  return (
    <section aria-labelledby="cars-title">
      <Title order={2} size="h4" mb="sm" id="cars-title">Carros</Title>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm">
        {cars.map((car) => {
          const day = schedule.data?.cars.find((c) => c.car_id === car.car_id);
          const live = (day?.visits ?? []).filter(isLive);
          const done = live.filter((x) => x.status === "collected" || x.status === "no_show").length;
          const team = teams.data?.items.find((t) => t.car.id === car.car_id);
          const name = carName(car.label, car.base);
          return (
            <Card key={car.car_id ?? "none"} withBorder padding="sm" radius="md" data-car={car.car_id ?? ""}>
              <Text fw={700}>{name}</Text>
              <Text size="xs" c="dimmed">{car.unit_name ?? car.unit ?? "Unidade não informada"}</Text>
              <Text size="sm" mt={6}>
                {team ? <>Motorista: <strong>{team.driver.name}</strong> · Coletora: <strong>{team.collector.name}</strong></> : <Text span c="dimmed" size="sm">Sem equipe definida</Text>}
              </Text>
              <Text size="sm" mt={4}>{plural(car.visits, "visita", "visitas")}, {plural(car.confirmed, "confirmada", "confirmadas")} ({pct(car.confirmed, car.visits)})</Text>
              {schedule.isPending ? <Skeleton h={8} mt={8} /> : (
                <>
                  <Progress value={live.length ? (done / live.length) * 100 : 0} mt={8} aria-label={`Progresso do ${name}`} color="teal.8" />
                  <Text size="xs" c="dimmed" mt={2}>{done} de {live.length} atendidas (coletadas ou ausentes)</Text>
                </>
              )}
              <AnchorLink to="/agenda" search={{ data: date === todayIso() ? undefined : date }} size="sm" mt={6}>Ver na agenda</AnchorLink>
            </Card>
          );
        })}
      </SimpleGrid>
    </section>
  );
}

function Rates({ date, search, update }: { date: string; search: DashboardSearch; update: (p: Partial<DashboardSearch>) => void }) {
  const group = search.grupo ?? "channel";
  const days = Number(search.periodo ?? "30");
  const from = addDays(date, -(days - 1));
  const rates = useQuery({
    queryKey: ["stats", "rates", group, from, date, search.unidade ?? null],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/stats/confirmation-rates", {
      params: { query: { group_by: group, visit_from: from, visit_to: date, unit: search.unidade } }, signal,
    })),
  });
  const items = rates.data?.items ?? [];
  const label = (item: (typeof items)[number]) => (group === "car" ? carName(item.label, item.base) : item.label);
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="rates-title">
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={2} size="h4" id="rates-title">Taxa de confirmação por {rateGroupLabel(group).toLowerCase()}</Title>
          <Text size="sm" c="dimmed">De {formatDate(from)} a {formatDate(date)}</Text>
        </div>
        <Group gap="sm">
          <SegmentedControl size="xs" aria-label="Agrupar por" value={group}
            data={RATE_GROUPS.map((g) => ({ value: g, label: rateGroupLabel(g) }))}
            onChange={(v) => update({ grupo: v === "channel" ? undefined : (v as DashboardSearch["grupo"]) })} />
          <SegmentedControl size="xs" aria-label="Período" value={String(days)}
            data={PERIODS.map((p) => ({ value: p, label: `${p} dias` }))}
            onChange={(v) => update({ periodo: v === "30" ? undefined : (v as DashboardSearch["periodo"]) })} />
        </Group>
      </Group>
      {rates.error ? <Problem error={rates.error} /> : rates.isPending ? <Loading label="Carregando taxas" /> : !items.length ? (
        <Text c="dimmed">Sem visitas no período.</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
          <div aria-hidden="true">
            <BarsList data={items.slice(0, 15).map((i) => ({ name: label(i), value: Math.round(i.rate * 1000) / 10, color: "indigo.1" }))}
              valueFormatter={(v) => `${v.toLocaleString("pt-BR")}%`} barsLabel={rateGroupLabel(group)} valueLabel="Taxa" barTextColor="dark.9" />
          </div>
          <Table.ScrollContainer minWidth={300} mah={360}>
            <Table verticalSpacing={4} horizontalSpacing={6} data-testid="rates-table">
              <Table.Thead><Table.Tr>
                <Table.Th scope="col">{rateGroupLabel(group)}</Table.Th><Table.Th scope="col" ta="right">Visitas</Table.Th>
                <Table.Th scope="col" ta="right">Confirmadas</Table.Th><Table.Th scope="col" ta="right">Taxa</Table.Th>
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {items.map((i) => (
                  <Table.Tr key={`${i.value}`}>
                    <Table.Td>{label(i)}</Table.Td><Table.Td ta="right">{formatCount(i.visits)}</Table.Td>
                    <Table.Td ta="right">{formatCount(i.confirmed)}</Table.Td><Table.Td ta="right">{pct(i.confirmed, i.visits)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </SimpleGrid>
      )}
    </Paper>
  );
}

/** The last 7 days, one dashboard per day (the API has no daily series yet: web/API-NEEDS.md §1). */
function Trend({ date, unit }: { date: string; unit?: string }) {
  const days = Array.from({ length: 7 }, (_, i) => addDays(date, i - 6));
  const results = useQueries({ queries: days.map((d) => ({ ...dashboardQuery(d, unit), staleTime: 60_000 })) });
  // The chart library loads only once this section is on screen.
  const { ref, entry } = useIntersection({ rootMargin: "100px" });
  const [seen, setSeen] = useState(false);
  useEffect(() => { if (entry?.isIntersecting) setSeen(true); }, [entry?.isIntersecting]);
  const ready = results.every((r) => r.data);
  const rows = days.map((d, i) => {
    const r = results[i]!.data;
    return { dia: formatDate(d).slice(0, 5), data: d, visitas: r?.visits_today ?? 0, confirmadas: r?.confirmed_today ?? 0, ausentes: r?.no_show_today ?? 0 };
  });
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="trend-title" ref={ref}>
      <Title order={2} size="h4" id="trend-title">Últimos 7 dias</Title>
      <Text size="sm" c="dimmed" mb="sm">Visitas, confirmadas e ausentes por dia, até {formatDate(date)}</Text>
      {results.some((r) => r.error) ? <Problem error={results.find((r) => r.error)!.error} /> : !ready ? <Loading label="Carregando tendência" /> : (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
          {seen ? <Suspense fallback={<Skeleton h={220} />}><TrendChart data={rows} /></Suspense> : <Skeleton h={220} />}
          <Table.ScrollContainer minWidth={300}>
            <Table verticalSpacing={4} horizontalSpacing={6}>
              <Table.Thead><Table.Tr>
                <Table.Th scope="col">Dia</Table.Th><Table.Th scope="col" ta="right">Visitas</Table.Th>
                <Table.Th scope="col" ta="right">Confirmadas</Table.Th><Table.Th scope="col" ta="right">Ausentes</Table.Th>
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {rows.map((r) => (
                  <Table.Tr key={r.data} data-trend-day={r.data}>
                    <Table.Td>{formatDate(r.data).slice(0, 5)}</Table.Td><Table.Td ta="right">{r.visitas}</Table.Td>
                    <Table.Td ta="right">{r.confirmadas}</Table.Td><Table.Td ta="right">{r.ausentes}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </SimpleGrid>
      )}
    </Paper>
  );
}
