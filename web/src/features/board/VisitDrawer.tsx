import {
  Alert, Badge, Button, Divider, Drawer, Group, Select, SimpleGrid, Stack, Table, Text, Title,
} from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { api } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { DayInput, TimeSelect } from "../../components/DayInput";
import { Phones } from "../../components/Phones";
import { HistoryTimeline } from "../../components/HistoryTimeline";
import { Loading, Problem } from "../../components/states";
import { formatDate, formatDateTime, formatTime, hhmm, localDateTime, localDay, localMinutes } from "../../lib/dates";
import {
  carName, channelLabel, confirmationColor, confirmationStatusLabel, outcomeLabel, sourceLabel,
  visitStatusColor, visitStatusLabel,
} from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import { carOption, carsQuery } from "../../lib/reference";
import { useMe } from "../../session";
import { visitQuery, type Visit } from "./queries";
import { AttemptForm, MessageForm, refreshAfterVisitChange, StatusForm } from "./VisitActions";

function Block({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-label={title}>
      <Title order={3} size="h5" mb={6}>{title}</Title>
      {children}
    </section>
  );
}

export function VisitDrawer({ visitId, onClose }: { visitId: string | undefined; onClose: () => void }) {
  const phone = useMediaQuery("(max-width: 48em)");
  return (
    <Drawer opened={!!visitId} onClose={onClose} position="right" size={phone ? "100%" : 520} title="Visita" closeButtonProps={{ "aria-label": "Fechar" }}>
      {visitId && <VisitDetails visitId={visitId} />}
    </Drawer>
  );
}

function VisitDetails({ visitId }: { visitId: string }) {
  const me = useMe();
  const query = useQuery(visitQuery(visitId));
  if (query.error) return <Problem error={query.error} retry={() => void query.refetch()} />;
  if (query.isPending) return <Loading label="Carregando visita" />;
  const v = query.data;
  const a = v.address;
  const history = [...(v.history ?? [])].sort((x, y) => y.at.localeCompare(x.at));
  const attempts = [...(v.confirmation_attempts ?? [])].sort((x, y) => y.at.localeCompare(x.at));
  return (
    <Stack gap="md" data-testid="visit-details">
      <div>
        <AnchorLink to="/pacientes/$patientId" params={{ patientId: v.patient.id }} fw={700} size="lg">{v.patient.name ?? "Paciente sem nome"}</AnchorLink>
        <Text size="sm">{formatDate(v.date)} · {formatTime(v.start)}–{formatTime(v.end)} · {carName(v.car?.label, v.car?.base)}</Text>
        <Group gap={6} mt={4}>
          <Badge color={visitStatusColor(v.status)}>{visitStatusLabel(v.status)}</Badge>
          <Badge color={confirmationColor(v.confirmation.status)}>{confirmationStatusLabel(v.confirmation.status)}</Badge>
          {v.missing_from_latest_export && <Badge color="orange">Fora da última agenda</Badge>}
          {v.patient.opted_out && <Badge color="red">Não recebe mensagens</Badge>}
        </Group>
      </div>
      <SimpleGrid cols={2} spacing="xs">
        <div>
          <Text size="xs" c="dimmed">Telefones</Text>
          <Phones phones={v.patient.phones} link={me.can.seeContactsInFull} empty="—" />
        </div>
        <div>
          <Text size="xs" c="dimmed">Endereço</Text>
          <Text size="sm">{a.text ?? ([[a.street, a.number].filter(Boolean).join(", "), a.complement, a.neighborhood].filter(Boolean).join(" · ") || "—")}</Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">Exames</Text>
          <Text size="sm">{v.exams.codes.length ? `${v.exams.total || v.exams.codes.length} (${v.exams.codes.join(", ")})` : "—"}</Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">Convênios</Text>
          <Text size="sm">{v.payers.map((p) => p.name ?? p.code).filter(Boolean).join(", ") || "—"}</Text>
        </div>
      </SimpleGrid>
      {v.notes && <Text size="sm"><strong>Observação:</strong> {v.notes}</Text>}
      {me.can.operate && (
        <>
          <Divider />
          {v.status === "scheduled" && <Block title="Remarcar"><Reschedule visit={v} /></Block>}
          <Block title="Situação"><StatusForm visitId={v.id} status={v.status} /></Block>
          {v.status === "scheduled" && <Block title="Confirmação"><AttemptForm visitId={v.id} defaultChannel={v.patient.preferred_channel ?? "phone"} /></Block>}
          {v.status === "scheduled" && <Block title="Mensagem ao paciente"><MessageForm visitId={v.id} /></Block>}
        </>
      )}
      <Divider />
      <Block title="Tentativas de confirmação">
        {attempts.length === 0 ? <Text size="sm" c="dimmed">Nenhuma tentativa.</Text> : (
          <Table verticalSpacing={4} fz="sm">
            <Table.Thead><Table.Tr><Table.Th scope="col">Quando</Table.Th><Table.Th scope="col">Canal</Table.Th><Table.Th scope="col">Resultado</Table.Th><Table.Th scope="col">Origem</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {attempts.map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td>{formatDateTime(t.at)}</Table.Td><Table.Td>{channelLabel(t.channel)}</Table.Td>
                  <Table.Td>{outcomeLabel(t.outcome)}{t.notes ? ` · ${t.notes}` : ""}</Table.Td><Table.Td>{sourceLabel(t.source)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Block>
      <Block title="Histórico">
        <HistoryTimeline history={history} />
      </Block>
    </Stack>
  );
}

/** The keyboard's way to move a visit (the board's drag does the same). */
function Reschedule({ visit }: { visit: Visit }) {
  const cars = useQuery(carsQuery);
  const duration = (new Date(visit.end).getTime() - new Date(visit.start).getTime()) / 60_000;
  const [day, setDay] = useState(localDay(visit.start));
  const [time, setTime] = useState(hhmm(localMinutes(visit.start)));
  const [car, setCar] = useState<string | null>(visit.car?.id ?? null);
  const mutation = useMutation({
    mutationFn: () => {
      const [h, m] = time.split(":").map(Number) as [number, number];
      const start = h * 60 + m;
      return unwrap(api.PATCH("/api/v1/visits/{visit_id}", {
        params: { path: { visit_id: visit.id } },
        body: { start: localDateTime(day, start), end: localDateTime(day, start + duration), car_id: car },
      }));
    },
    onSuccess: () => refreshAfterVisitChange(visit.id),
  });
  const options = (cars.data?.items ?? []).filter((c) => c.status === "active" || c.id === visit.car?.id).map(carOption);
  return (
    <form aria-label="Remarcar visita" onSubmit={(e) => { e.preventDefault(); mutation.mutate(); }}>
      <SimpleGrid cols={2} spacing="sm">
        <DayInput label="Dia" value={day} onChange={setDay} required w="100%" />
        <TimeSelect label="Início" value={time} onChange={setTime} />
      </SimpleGrid>
      <Select mt="xs" label="Carro" data={options} value={car} onChange={setCar} allowDeselect={false} searchable />
      {mutation.error && <Alert mt="xs" color="red" role="alert" title="Não foi possível remarcar">{problemMessage(mutation.error)}</Alert>}
      {mutation.isSuccess && <Text size="sm" role="status" c="teal.9" mt="xs">Visita remarcada.</Text>}
      <Group justify="flex-end" mt="xs"><Button type="submit" size="sm" variant="light" loading={mutation.isPending}>Remarcar</Button></Group>
    </form>
  );
}
