import {
  Card, Group, Paper, Progress, SegmentedControl, SimpleGrid, Skeleton, Stack, Table, Text, Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useIntersection } from "@mantine/hooks";
import { lazy, Suspense, useEffect, useState } from "react";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/errors";
import { DayPicker, UnitPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { addDays, formatDate, formatLongDate, todayIso } from "../../lib/dates";
import { formatCount, plural } from "../../lib/format";
import { carName, rateGroupLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import { PERIODS, RATE_GROUPS, type DashboardSearch } from "../../routeSearch";

const TrendCharts = lazy(() => import("./Charts").then((m) => ({ default: m.TrendCharts })));

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
      <Trend date={date} search={search} update={update} settled={!dash.isPending} />
    </Stack>
  );
}

function Kpi({ id, label, value, shown, hint, color }: {
  id: string; label: string; value: number | null; shown?: string; hint?: string; color?: string;
}) {
  return (
    <Paper withBorder p="sm" radius="md" data-kpi={id}>
      <Text size="sm" c="dimmed" fw={500}>{label}</Text>
      <Text fz={28} fw={700} c={color} data-value={value ?? ""}>{shown ?? (value == null ? "—" : formatCount(value))}</Text>
      {hint && <Text size="xs" c="dimmed">{hint}</Text>}
    </Paper>
  );
}

const days = (n: number | null | undefined) => (n == null ? "—" : `${n.toLocaleString("pt-BR", { maximumFractionDigits: 1 })} ${n === 1 ? "dia" : "dias"}`);
const rate = (r: number | null | undefined) => (r == null ? "—" : `${(r * 100).toLocaleString("pt-BR", { maximumFractionDigits: 1 })}%`);

function Kpis({ dash }: { dash: Dashboard }) {
  const v = dash.visits_today;
  const lead = dash.lead_time;
  return (
    <section aria-label="Números do dia">
      <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="sm">
        <Kpi id="visits" label="Visitas" value={v} hint="sem as canceladas" />
        <Kpi id="confirmed" label="Confirmadas" value={dash.confirmed_today} hint={pct(dash.confirmed_today, v)} color="teal.9" />
        <Kpi id="pending" label="Pendentes" value={dash.pending_confirmations} hint={pct(dash.pending_confirmations, v)} color="#8a4a00" />
        <Kpi id="declined" label="Recusadas" value={dash.declined_today} hint={pct(dash.declined_today, v)} color="red.9" />
        <Kpi id="cancelled" label="Canceladas" value={dash.cancelled_today} />
        <Kpi id="collected" label="Coletadas" value={dash.collected_today} hint={pct(dash.collected_today, v)} />
        <Kpi id="no_show" label="Ausentes" value={dash.no_show_today} hint={pct(dash.no_show_today, v)} color="#98320a" />
        <Kpi id="no_show_rate" label="Taxa de ausência" value={dash.no_show_rate} shown={rate(dash.no_show_rate)} hint="das visitas já atendidas" color="#98320a" />
        <Kpi id="lead_time" label="Antecedência (mediana)" value={lead.median_days} shown={days(lead.median_days)}
          hint={lead.visits ? `p90 ${days(lead.p90_days)} · ${plural(lead.visits, "visita", "visitas")}` : "sem data de marcação"} />
        <Kpi id="cars" label="Carros em rota" value={dash.active_cars} />
      </SimpleGrid>
    </section>
  );
}

function CarCards({ dash, date, unit }: { dash: Dashboard; date: string; unit?: string }) {
  const cars = dash.by_car.filter((c) => c.visits > 0);
  if (!cars.length) return <Text c="dimmed">Nenhuma visita neste dia{unit ? " nesta unidade" : ""}.</Text>;
  return (
    <section aria-labelledby="cars-title">
      <Title order={2} size="h4" mb="sm" id="cars-title">Carros</Title>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm">
        {cars.map((car) => {
          const done = car.collected + car.no_show;
          const name = carName(car.label, car.base);
          return (
            <Card key={car.car_id ?? "none"} withBorder padding="sm" radius="md" data-car={car.car_id ?? ""}>
              <Text fw={700}>{name}</Text>
              <Text size="xs" c="dimmed">{car.car_id ? car.unit_name ?? car.unit ?? "Unidade não informada" : "Visitas sem carro definido"}</Text>
              <Text size="sm" mt={6}>
                {car.team ? <>Motorista: <strong>{car.team.driver.name}</strong> · Coletora: <strong>{car.team.collector.name}</strong></> : <Text span c="dimmed" size="sm">Sem equipe definida</Text>}
              </Text>
              <Text size="sm" mt={4}>{plural(car.visits, "visita", "visitas")}, {plural(car.confirmed, "confirmada", "confirmadas")} ({pct(car.confirmed, car.visits)})</Text>
              <Text size="xs" c="dimmed">{plural(car.pending, "pendente", "pendentes")} · {plural(car.declined, "recusada", "recusadas")}</Text>
              <Progress value={car.visits ? (done / car.visits) * 100 : 0} mt={8} aria-label={`Progresso do ${name}`} color="teal.8" />
              <Text size="xs" c="dimmed" mt={2}>{done} de {car.visits} atendidas ({car.collected} coletadas, {car.no_show} ausentes)</Text>
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
            <RateBars data={items.slice(0, 15).map((i) => ({ name: label(i), value: Math.round(i.rate * 1000) / 10 }))} />
          </div>
          <Table.ScrollContainer type="native" minWidth={300} maxHeight={360} tabIndex={0} role="region" aria-label="Tabela das taxas">
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

/** One point per day of the period, ending on the dashboard's day (GET /stats/trend: each day equals that day's dashboard). */
function Trend({ date, search, update, settled }: {
  date: string; search: DashboardSearch; update: (p: Partial<DashboardSearch>) => void; settled: boolean;
}) {
  const period = Number(search.tendencia ?? "30");
  const from = addDays(date, -(period - 1));
  const trend = useQuery({
    queryKey: ["stats", "trend", from, date, search.unidade ?? null],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/stats/trend", {
      params: { query: { visit_from: from, visit_to: date, unit: search.unidade } }, signal,
    })),
    staleTime: 60_000,
  });
  // The chart library loads only once this section is on screen: after the day's numbers are laid out
  // (while they load, the page is short and this section would seem in view).
  const { ref, entry } = useIntersection({ rootMargin: "100px" });
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    if (!settled || !entry) return;
    // The observer's last entry may date from before the numbers were laid out: ask the layout as it is now.
    const frame = requestAnimationFrame(() => {
      if (entry.target.getBoundingClientRect().top < window.innerHeight + 100) setSeen(true);
    });
    return () => cancelAnimationFrame(frame);
  }, [settled, entry]);
  const items = trend.data?.items ?? [];
  const rows = items.map((i) => ({
    dia: formatDate(i.date).slice(0, 5), visitas: i.visits, confirmadas: i.confirmed, ausentes: i.no_show,
    confirmacao: i.confirmation_rate == null ? null : Math.round(i.confirmation_rate * 1000) / 10,
    ausencia: i.no_show_rate == null ? null : Math.round(i.no_show_rate * 1000) / 10,
    antecedencia: i.lead_time_median_days,
  }));
  return (
    <Paper withBorder p={{ base: "sm", sm: "md" }} radius="md" component="section" aria-labelledby="trend-title" ref={ref}>
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={2} size="h4" id="trend-title">Últimos {period} dias</Title>
          <Text size="sm" c="dimmed">De {formatDate(from)} a {formatDate(date)}: visitas, confirmadas e ausentes; taxas e antecedência</Text>
        </div>
        <SegmentedControl size="xs" aria-label="Período da tendência" value={String(period)}
          data={PERIODS.map((p) => ({ value: p, label: `${p} dias` }))}
          onChange={(v) => update({ tendencia: v === "30" ? undefined : (v as DashboardSearch["tendencia"]) })} />
      </Group>
      {trend.error ? <Problem error={trend.error} /> : trend.isPending ? <Loading label="Carregando tendência" /> : (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
          {seen ? <Suspense fallback={<Skeleton h={440} />}><TrendCharts data={rows} /></Suspense> : <Skeleton h={440} />}
          <Table.ScrollContainer type="native" minWidth={300} maxHeight={470} tabIndex={0} role="region" aria-label="Tabela da tendência por dia">
            <Table verticalSpacing={4} horizontalSpacing={6} stickyHeader data-testid="trend-table">
              <Table.Thead><Table.Tr>
                <Table.Th scope="col">Dia</Table.Th><Table.Th scope="col" ta="right">Visitas</Table.Th>
                <Table.Th scope="col" ta="right">Confirmadas</Table.Th><Table.Th scope="col" ta="right">Ausentes</Table.Th>
                <Table.Th scope="col" ta="right" visibleFrom="sm">Ausência</Table.Th><Table.Th scope="col" ta="right" visibleFrom="sm">Antecedência</Table.Th>
              </Table.Tr></Table.Thead>
              <Table.Tbody>
                {[...items].reverse().map((i) => (
                  <Table.Tr key={i.date} data-trend-day={i.date}>
                    <Table.Td>{formatDate(i.date).slice(0, 5)}</Table.Td><Table.Td ta="right">{i.visits}</Table.Td>
                    <Table.Td ta="right">{i.confirmed}</Table.Td><Table.Td ta="right">{i.no_show}</Table.Td>
                    <Table.Td ta="right" visibleFrom="sm">{rate(i.no_show_rate)}</Table.Td>
                    <Table.Td ta="right" visibleFrom="sm">{days(i.lead_time_median_days)}</Table.Td>
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

/**
 * Confirmation rates as horizontal bars, in percent. Drawn with the core components: the chart library
 * (~120 kB gzip) stays in the trend's chunk, out of the first screen. The table beside is what
 * assistive technology reads.
 */
function RateBars({ data }: { data: { name: string; value: number }[] }) {
  return (
    <Stack gap={6}>
      {data.map((d) => (
        <div key={d.name}>
          <Group justify="space-between" gap="xs" wrap="nowrap">
            <Text size="sm" truncate>{d.name}</Text>
            <Text size="sm" fw={600}>{`${d.value.toLocaleString("pt-BR")}%`}</Text>
          </Group>
          <Progress value={d.value} size="sm" color="indigo.4" />
        </div>
      ))}
    </Stack>
  );
}
