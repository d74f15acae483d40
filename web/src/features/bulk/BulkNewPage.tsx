import {
  Alert, Button, Group, NumberInput, Paper, Radio, Select, SimpleGrid, Stack, TagsInput, Text, Title,
} from "@mantine/core";
import { useMutation, useQuery, type UseQueryResult } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { formatDate, formatTime, localDay, todayIso } from "../../lib/dates";
import { DayInput } from "../../components/DayInput";
import { plural } from "../../lib/format";
import { bulkActionLabel, carName, channelLabel, FACET_LABELS, facetValueLabel, templateLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import { carOption, carsQuery } from "../../lib/reference";
import { CHANNELS, TEMPLATE_HINTS, TEMPLATES, type Template } from "../board/VisitActions";
import { apiQuery, FACETS, PERIOD_LABELS, type PatientSearch } from "../search/searchParams";
import { ACTIONS, type Action } from "./bulkSearch";

/** The patient search as the bulk API takes it (GET /patients's parameters without paging and sort). */
function bulkSearchBody(search: PatientSearch) {
  const { sort: _sort, ...query } = apiQuery(search);
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && !(Array.isArray(v) && !v.length)));
}

const PATIENT_ACTIONS: Action[] = ["add_tags", "remove_tags", "export"];

export function BulkNewPage() {
  const search = useSearch({ from: "/app/lotes/novo" });
  const navigate = useNavigate({ from: "/lotes/novo" });
  const { visita, paciente, acao, ...patientSearch } = search;
  const byVisits = !!visita?.length;
  const byPatients = !byVisits && !!paciente?.length;
  const action: Action = acao ?? "confirm";
  const [params, setParams] = useState<Record<string, unknown>>({});
  const [confirming, setConfirming] = useState(false);
  const total = useQuery({
    queryKey: ["patients", "count", bulkSearchBody(patientSearch)],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/patients", { params: { query: { ...apiQuery(patientSearch), page_size: 1, facet_size: 1 } }, signal })),
    enabled: !byVisits && !byPatients,
  });
  const body = byVisits
    ? { action, visit_ids: visita, params: withDefaults(action, params, true) }
    : byPatients
      ? { action, patient_ids: paciente, params: withDefaults(action, params, false) }
      : { action, search: bulkSearchBody(patientSearch), params: withDefaults(action, params, false) };
  // The review step: what the job would touch now (counts and the first targets), before it is created.
  const preview = useQuery({
    queryKey: ["bulk", "preview", body],
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/bulk/preview", { body, signal })),
    enabled: confirming,
    retry: false,
    staleTime: 0,
  });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/bulk", { body })),
    onSuccess: (job) => void navigate({ to: "/lotes/$jobId", params: { jobId: job.id } }),
    onError: () => setConfirming(false),
  });
  const patients = byPatients ? paciente!.length : total.data?.total;
  const target = byVisits
    ? plural(visita!.length, "visita selecionada na agenda", "visitas selecionadas na agenda")
    : patients === undefined ? "…" : PATIENT_ACTIONS.includes(action)
      ? plural(patients, byPatients ? "paciente marcado" : "paciente da busca", byPatients ? "pacientes marcados" : "pacientes da busca")
      : byPatients
        ? `as visitas (não canceladas, de hoje em diante) dos ${plural(patients, "paciente marcado", "pacientes marcados")}`
        : `as visitas (não canceladas) dos ${plural(patients, "paciente", "pacientes")} da busca que atendem aos filtros de visita`;
  const ready = isReady(action, params);

  return (
    <Stack gap="lg" maw={900} mx="auto">
      <AnchorLink to="/lotes" size="sm" w="fit-content">← Ações em lote</AnchorLink>
      <Title order={1} size="h2">Nova ação em lote</Title>
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="target-title">
        <Title order={2} size="h4" id="target-title" mb={4}>Alvo</Title>
        {byVisits ? (
          <Text>{target}. <AnchorLink to="/agenda" search={{ selecionar: true, selecao: visita }}>Voltar à agenda</AnchorLink></Text>
        ) : byPatients ? (
          <Text data-testid="bulk-target">{plural(paciente!.length, "paciente marcado", "pacientes marcados")} na busca. <AnchorLink to="/pacientes" search={patientSearch}>Voltar à busca</AnchorLink></Text>
        ) : (
          <>
            <Text data-testid="bulk-target">Todos os {patients === undefined ? "…" : plural(patients, "paciente", "pacientes")} desta busca:</Text>
            <SearchSummary search={patientSearch} />
            <AnchorLink to="/pacientes" search={patientSearch} size="sm">Ajustar a busca</AnchorLink>
          </>
        )}
      </Paper>
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="action-title">
        <Title order={2} size="h4" id="action-title" mb="sm">Ação</Title>
        <Radio.Group value={action} onChange={(v) => { setParams({}); setConfirming(false); void navigate({ search: (prev) => ({ ...prev, acao: v as Action }), replace: true }); }}
          aria-label="Ação">
          <SimpleGrid cols={{ base: 1, xs: 2, sm: 4 }} spacing="xs">
            {ACTIONS.map((a) => <Radio key={a} value={a} label={bulkActionLabel(a)} />)}
          </SimpleGrid>
        </Radio.Group>
        <Stack mt="md" gap="sm"><ActionParams action={action} params={params} setParams={setParams} byVisits={byVisits} /></Stack>
      </Paper>
      {create.error && <Alert color="red" role="alert" title="O lote não foi criado">{problemMessage(create.error)}</Alert>}
      {confirming ? (
        <Alert color="indigo" title="Confirme a ação" role="alertdialog" aria-label="Confirme a ação">
          <Text size="sm" mb="xs"><strong>{bulkActionLabel(action)}</strong> em {target}. O lote roda em segundo plano e pode ser acompanhado item a item.</Text>
          <Preview preview={preview} />
          <Group mt="sm">
            <Button onClick={() => create.mutate()} loading={create.isPending} disabled={!preview.data || preview.data.too_many}>Iniciar lote</Button>
            <Button variant="default" onClick={() => setConfirming(false)}>Voltar</Button>
          </Group>
        </Alert>
      ) : (
        <Group justify="flex-end">
          <Button onClick={() => setConfirming(true)} disabled={!ready || (!byVisits && !patients)}>Revisar e iniciar</Button>
        </Group>
      )}
    </Stack>
  );
}

function Preview({ preview }: { preview: UseQueryResult<Schemas["BulkPreview"]> }) {
  if (preview.error) return <Text size="sm" c="red.9" role="alert">{problemMessage(preview.error)}</Text>;
  if (!preview.data) return <Text size="sm" c="dimmed">Contando os alvos…</Text>;
  const p = preview.data;
  return (
    <div data-testid="bulk-preview" data-patients={p.patients} data-visits={p.visits} data-items={p.item_kind === "visit" ? p.visits : p.patients}>
      <Text size="sm" fw={600}>
        Agora: {p.item_kind === "visit"
          ? `${plural(p.visits, "visita", "visitas")} de ${plural(p.patients, "paciente", "pacientes")}`
          : plural(p.patients, "paciente", "pacientes")}.
      </Text>
      {p.too_many && <Text size="sm" c="red.9" role="alert">Acima do limite de 50.000 alvos por lote: refine a busca.</Text>}
      {p.sample.length > 0 && (
        <>
          <Text size="xs" c="dimmed" mt={4}>Primeiros alvos:</Text>
          <ul style={{ margin: "2px 0 0", paddingLeft: 20 }}>
            {p.sample.map((i, n) => (
              <li key={i.visit_id ?? i.patient_id ?? n}>
                <Text size="sm">
                  {i.patient_name ?? "Paciente sem nome"}
                  {i.start ? ` · ${formatDate(localDay(i.start))} ${formatTime(i.start)}` : ""}
                  {i.car ? ` · ${carName(i.car.label, i.car.base)}` : ""}
                </Text>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function SearchSummary({ search }: { search: PatientSearch }) {
  const parts: string[] = [];
  if (search.q) parts.push(`Busca: “${search.q}”`);
  for (const f of FACETS) if (search[f]?.length) parts.push(`${FACET_LABELS[f]}: ${search[f]!.map((v) => facetValueLabel(f, v)).join(", ")}`);
  if (search.periodo) parts.push(`Data da visita: ${search.periodo === "personalizado" ? `${formatDate(search.de)} a ${formatDate(search.ate)}` : PERIOD_LABELS[search.periodo]}`);
  if (search.recorrentes) parts.push("Só recorrentes");
  return parts.length ? (
    <ul style={{ margin: "4px 0 8px", paddingLeft: 20 }}>{parts.map((p) => <li key={p}><Text size="sm">{p}</Text></li>)}</ul>
  ) : <Text size="sm" c="#98320a" mb={4}>Sem filtros: todos os pacientes do cadastro.</Text>;
}

function withDefaults(action: Action, params: Record<string, unknown>, byVisits: boolean): Record<string, unknown> {
  switch (action) {
    case "confirm": return { channel: params.channel ?? "phone" };
    case "send_message": return { template: params.template ?? "confirmation_request", channel: params.channel ?? "whatsapp" };
    case "export": return { format: params.format ?? "csv", rows: params.rows ?? (byVisits ? "visits" : "patients") };
    case "reschedule": return params.mode === "shift" ? { shift_minutes: params.shift_minutes } : { date: params.date };
    default: return params;
  }
}

function isReady(action: Action, params: Record<string, unknown>): boolean {
  if (action === "move_car") return !!params.car_id;
  if (action === "add_tags" || action === "remove_tags") return Array.isArray(params.tags) && params.tags.length > 0;
  if (action === "reschedule") return params.mode === "shift" ? typeof params.shift_minutes === "number" && params.shift_minutes !== 0 : !!params.date;
  return true;
}

function ActionParams({ action, params, setParams, byVisits }: {
  action: Action; params: Record<string, unknown>; setParams: (p: Record<string, unknown>) => void; byVisits: boolean;
}) {
  const set = (patch: Record<string, unknown>) => setParams({ ...params, ...patch });
  const cars = useQuery({ ...carsQuery, enabled: action === "move_car" });
  switch (action) {
    case "confirm":
      return (
        <Select label="Canal em que confirmaram" w={260} value={(params.channel as string) ?? "phone"} allowDeselect={false}
          data={CHANNELS.map((c) => ({ value: c, label: channelLabel(c) }))} onChange={(v) => set({ channel: v })} />
      );
    case "send_message": {
      const template = ((params.template as Template) ?? "confirmation_request");
      return (
        <>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select label="Modelo" value={template} allowDeselect={false}
              data={TEMPLATES.map((t) => ({ value: t, label: templateLabel(t) }))} onChange={(v) => set({ template: v })} />
            <Select label="Canal" value={(params.channel as string) ?? "whatsapp"} allowDeselect={false}
              data={[{ value: "whatsapp", label: "WhatsApp" }, { value: "sms", label: "SMS" }]} onChange={(v) => set({ channel: v })} />
          </SimpleGrid>
          <Text size="sm" c="dimmed">{TEMPLATE_HINTS[template]} Quem pediu para não receber mensagens ou não tem celular fica de fora (aparece no resultado).</Text>
        </>
      );
    }
    case "reschedule":
      return (
        <>
          <Radio.Group label="Como remarcar" value={(params.mode as string) ?? "date"} onChange={(v) => setParams({ mode: v })}>
            <Group mt={4}><Radio value="date" label="Para outro dia, mesmos horários" /><Radio value="shift" label="Adiantar ou atrasar" /></Group>
          </Radio.Group>
          {params.mode === "shift" ? (
            <NumberInput label="Minutos (negativo adianta)" w={220} step={10} min={-720} max={720}
              value={(params.shift_minutes as number) ?? ""} onChange={(v) => set({ shift_minutes: typeof v === "number" ? v : undefined })} />
          ) : (
            <DayInput label="Novo dia" w={200} minDate={todayIso()} value={(params.date as string) ?? ""} onChange={(date) => set({ date })} />
          )}
        </>
      );
    case "move_car":
      return (
        <Select label="Novo carro" w={360} searchable value={(params.car_id as string) ?? null} placeholder="Escolha"
          data={(cars.data?.items ?? []).filter((c) => c.status === "active").map(carOption)} onChange={(v) => set({ car_id: v })} />
      );
    case "add_tags":
    case "remove_tags":
      return <TagsInput label="Etiquetas" value={(params.tags as string[]) ?? []} onChange={(tags) => set({ tags })} placeholder="Digite e Enter" />;
    case "export":
      return (
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select label="Formato" value={(params.format as string) ?? "csv"} allowDeselect={false}
            data={[{ value: "csv", label: "CSV (Excel, ; )" }, { value: "xlsx", label: "Planilha Excel (.xlsx)" }]} onChange={(v) => set({ format: v })} />
          <Select label="Uma linha por" value={(params.rows as string) ?? (byVisits ? "visits" : "patients")} allowDeselect={false}
            data={[{ value: "patients", label: "Paciente" }, { value: "visits", label: "Visita" }]} onChange={(v) => set({ rows: v })} />
        </SimpleGrid>
      );
  }
}
