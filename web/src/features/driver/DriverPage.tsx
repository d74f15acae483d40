// The driver's own day on a phone: their car's visits in order, the address with a maps link,
// and collected / no-show at the door.
import { Alert, Anchor, Badge, Button, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { api, type Schemas } from "../../api/client";
import { ApiProblem, problemMessage, unwrap } from "../../api/errors";
import { DayPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { formatLongDate, formatTime, todayIso } from "../../lib/dates";
import { openRouteSheet } from "../../lib/download";
import { formatPhone, plural } from "../../lib/format";
import { carName, phoneKindLabel, visitStatusColor, visitStatusLabel } from "../../lib/labels";
import { sortPhones } from "../../components/Phones";
import { queryClient } from "../../queryClient";

type DriverSchedule = Schemas["DriverSchedule"];
type DriverVisit = Schemas["DriverVisit"];

function mapsLink(a: DriverVisit["address"]): string | null {
  const text = a.text ?? [[a.street, a.number].filter(Boolean).join(", "), a.neighborhood, a.city, a.state, a.zip_code].filter(Boolean).join(", ");
  return text ? `https://www.google.com/maps/search/?api=1&query=${encodeURIComponent(text)}` : null;
}

export function DriverPage() {
  const { data } = useSearch({ from: "/app/motorista" });
  const navigate = useNavigate({ from: "/motorista" });
  const date = data ?? todayIso();
  const assignment = useQuery({
    queryKey: ["driver", "assignment", date],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/drivers/me/assignment", { params: { query: { date } }, signal })),
    retry: false,
  });
  const schedule = useQuery({
    queryKey: ["driver", "schedule", date],
    queryFn: async ({ signal }) => (await unwrap(api.GET("/api/v1/visits", { params: { query: { date } }, signal }))) as DriverSchedule,
    refetchInterval: 30_000,
  });
  const sheet = useMutation({ mutationFn: (carId: string) => openRouteSheet(carId, date) });
  const noCar = assignment.error instanceof ApiProblem && assignment.error.status === 403;
  const visits = (schedule.data?.cars ?? []).flatMap((c) => c.visits).filter((v) => v.status !== "cancelled")
    .sort((a, b) => a.start.localeCompare(b.start));
  const team = assignment.data?.team;

  return (
    <Stack gap="md" maw={560} mx="auto">
      <div>
        <Title order={1} size="h2">Meu dia</Title>
        <Text c="dimmed" size="sm">{formatLongDate(date)}</Text>
      </div>
      <DayPicker value={date} onChange={(d) => void navigate({ search: d === todayIso() ? {} : { data: d }, replace: true })} />
      {assignment.data && (
        <Paper withBorder p="sm" radius="md" data-testid="driver-car">
          <Text fw={700} size="lg">{carName(assignment.data.car.label, assignment.data.car.base)}</Text>
          {assignment.data.car.plate && <Text size="sm">Placa {assignment.data.car.plate}</Text>}
          {team && <Text size="sm">Coletora: <strong>{team.collector.name}</strong></Text>}
          <Button mt="xs" variant="light" fullWidth loading={sheet.isPending} onClick={() => sheet.mutate(assignment.data.car.id)}>
            Abrir folha de rota
          </Button>
          {sheet.error && <Alert mt="xs" color="red" role="alert">{problemMessage(sheet.error)}</Alert>}
        </Paper>
      )}
      {noCar && <Alert color="yellow" title="Sem carro neste dia" role="status">Você não está em nenhuma equipe neste dia. Fale com a operação.</Alert>}
      {assignment.error && !noCar && <Problem error={assignment.error} />}
      {schedule.error ? <Problem error={schedule.error} retry={() => void schedule.refetch()} />
        : schedule.isPending ? <Loading label="Carregando visitas" />
        : !noCar && (
          <>
            <Text fw={500} role="status">{plural(visits.length, "visita", "visitas")}</Text>
            <Stack gap="sm" component="ol" p={0} m={0} style={{ listStyle: "none" }} data-testid="driver-visits">
              {visits.map((v, i) => <Stop key={v.id} visit={v} order={i + 1} date={date} />)}
            </Stack>
          </>
        )}
    </Stack>
  );
}

function Stop({ visit, order, date }: { visit: DriverVisit; order: number; date: string }) {
  const mark = useMutation({
    mutationFn: (status: "collected" | "no_show") => unwrap(api.PATCH("/api/v1/visits/{visit_id}", {
      params: { path: { visit_id: visit.id } }, body: { status },
    })),
    onSuccess: (_visit, status) => {
      // The day comes from the index, a second behind PostgreSQL: show the answer at once, ask again a moment later.
      const key = ["driver", "schedule", date];
      queryClient.setQueryData<DriverSchedule>(key, (day) => day && {
        ...day, cars: day.cars.map((c) => ({ ...c, visits: c.visits.map((v) => (v.id === visit.id ? { ...v, status } : v)) })),
      });
      setTimeout(() => void queryClient.invalidateQueries({ queryKey: key }), 1_500);
    },
  });
  const a = visit.address;
  const maps = mapsLink(a);
  const name = visit.patient.name ?? "Paciente sem nome";
  return (
    <Paper component="li" withBorder p="sm" radius="md" data-visit-id={visit.id} aria-label={`${order}ª visita, ${formatTime(visit.start)}, ${name}`}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Text fw={700} size="lg">{order}. {formatTime(visit.start)}</Text>
        <Badge color={visitStatusColor(visit.status)}>{visitStatusLabel(visit.status)}</Badge>
      </Group>
      <Text fw={600}>{name}</Text>
      <Text size="sm">{[[a.street, a.number].filter(Boolean).join(", "), a.complement].filter(Boolean).join(" · ") || a.text || "Endereço não informado"}</Text>
      <Text size="sm" c="dimmed">{[a.neighborhood, a.city].filter(Boolean).join(" · ")}{a.reference ? ` · Ref.: ${a.reference}` : ""}</Text>
      {visit.notes && <Text size="sm" mt={4}><strong>Observação:</strong> {visit.notes}</Text>}
      <Group gap="sm" mt={6}>
        {maps && <Anchor href={maps} target="_blank" rel="noopener noreferrer" size="sm">Abrir no mapa</Anchor>}
        {/* Mobiles first (the patient answers there); the kind said, so a landline is not a surprise. */}
        {sortPhones(visit.patient.phones).map((p) => (
          <Anchor key={p.number} href={`tel:+55${p.number.replace(/\D/g, "")}`} size="sm">
            {formatPhone(p.number)}<Text span size="xs" c="dimmed"> · {phoneKindLabel(p.kind)}</Text>
          </Anchor>
        ))}
      </Group>
      {visit.status === "scheduled" && (
        <Group grow mt="sm">
          <Button color="teal.9" size="md" loading={mark.isPending && mark.variables === "collected"} onClick={() => mark.mutate("collected")}>Coletado</Button>
          <Button color="orange" variant="light" size="md" loading={mark.isPending && mark.variables === "no_show"} onClick={() => mark.mutate("no_show")}>Ausente</Button>
        </Group>
      )}
      {mark.error && <Alert mt="xs" color="red" role="alert" title="Não foi possível registrar">{problemMessage(mark.error)}</Alert>}
    </Paper>
  );
}
