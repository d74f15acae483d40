import { Alert, Badge, Button, Group, Modal, Paper, SegmentedControl, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { DayPicker, UnitPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { addDays, formatDateTime, formatLongDate, formatTime, todayIso } from "../../lib/dates";
import { formatPhone, plural } from "../../lib/format";
import { carName, channelLabel, messageStatusLabel, outcomeLabel, templateLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import type { ConfirmationsSearch } from "../../routeSearch";
import { scheduleQuery, type ScheduleVisit } from "../board/queries";
import { CHANNELS, logAttempt, MessageForm, refreshAfterVisitChange, type Channel, type Outcome } from "../board/VisitActions";

interface Row {
  visit: ScheduleVisit;
  car: string;
}

/** "A confirmar amanhã": the day's scheduled visits still without a yes, by time (from GET /visits: web/API-NEEDS.md §4). */
export function ConfirmationsPage() {
  const search = useSearch({ from: "/app/confirmacoes" });
  const navigate = useNavigate({ from: "/confirmacoes" });
  const tomorrow = addDays(todayIso(), 1);
  const date = search.data ?? tomorrow;
  const wanted = search.situacao === "recusadas" ? "declined" : "pending";
  const update = (patch: Partial<ConfirmationsSearch>, replace = true) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace });
  const schedule = useQuery({ ...scheduleQuery(date, search.unidade, ["scheduled"]), refetchInterval: 10_000, staleTime: 0 });
  const rows: Row[] = (schedule.data?.cars ?? [])
    .flatMap((c) => c.visits.map((visit) => ({ visit, car: carName(c.car, c.car_base) })))
    .filter((r) => r.visit.status === "scheduled" && !r.visit.missing_from_latest_export && r.visit.confirmation.status === wanted)
    .sort((a, b) => a.visit.start.localeCompare(b.visit.start) || a.car.localeCompare(b.car, "pt-BR", { numeric: true }));
  const messageRow = rows.find((r) => r.visit.id === search.mensagem) ?? null;
  // A confirmed visit leaves the queue: what was done stays said here.
  const [lastDone, setLastDone] = useState<string | null>(null);

  return (
    <Stack gap="md" maw={1200} mx="auto">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={1} size="h2">{date === tomorrow ? "A confirmar amanhã" : "A confirmar"}</Title>
          <Text c="dimmed" size="sm">{formatLongDate(date)}</Text>
        </div>
        <Group gap="sm" align="flex-end">
          <DayPicker value={date} onChange={(d) => update({ data: d === tomorrow ? undefined : d })} />
          <UnitPicker value={search.unidade} onChange={(u) => update({ unidade: u })} />
        </Group>
      </Group>
      <Group justify="space-between">
        <SegmentedControl aria-label="Situação da confirmação" value={search.situacao ?? "pendentes"}
          data={[{ value: "pendentes", label: "Sem resposta" }, { value: "recusadas", label: "Recusadas" }]}
          onChange={(v) => update({ situacao: v === "pendentes" ? undefined : "recusadas" })} />
        <Text fw={500} role="status" aria-live="polite" data-testid="queue-count">
          {schedule.data ? plural(rows.length, wanted === "pending" ? "visita a confirmar" : "visita recusada", wanted === "pending" ? "visitas a confirmar" : "visitas recusadas") : "Carregando…"}
        </Text>
      </Group>
      <Text size="sm" role="status" aria-live="polite" data-testid="last-done" c="teal.9">{lastDone}</Text>
      {schedule.error ? <Problem error={schedule.error} retry={() => void schedule.refetch()} />
        : schedule.isPending ? <Loading label="Carregando visitas" />
        : rows.length === 0 ? <Text c="dimmed" py="lg">Nenhuma visita {wanted === "pending" ? "esperando confirmação" : "recusada"} neste dia.</Text>
        : (
          <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: "none" }} data-testid="queue">
            {rows.map((r) => <QueueRow key={r.visit.id} row={r} onMessage={() => update({ mensagem: r.visit.id }, false)} onDone={setLastDone} />)}
          </Stack>
        )}
      <Modal opened={!!messageRow} onClose={() => update({ mensagem: undefined })} title="Mensagem ao paciente" size="lg"
        closeButtonProps={{ "aria-label": "Fechar" }}>
        {messageRow && <MessagePanel row={messageRow} />}
      </Modal>
    </Stack>
  );
}

function QueueRow({ row, onMessage, onDone }: { row: Row; onMessage: () => void; onDone: (text: string) => void }) {
  const v = row.visit;
  const [channel, setChannel] = useState<Channel>((v.patient.preferred_channel as Channel | null) ?? "phone");
  const [done, setDone] = useState<string | null>(null);
  const log = useMutation({
    mutationFn: (outcome: Outcome) => logAttempt(v.id, channel, outcome),
    onSuccess: async (attempt) => {
      const text = `${outcomeLabel(attempt.outcome)} (${channelLabel(attempt.channel)}) registrado às ${formatTime(attempt.at)}.`;
      setDone(text);
      onDone(`${v.patient.name ?? "Paciente"}, ${formatTime(v.start)}: ${text}`);
      await refreshAfterVisitChange(v.id);
    },
  });
  const last = v.confirmation.last_attempt;
  const name = v.patient.name ?? "Paciente sem nome";
  return (
    <Paper component="li" withBorder p="sm" radius="md" data-visit-id={v.id} aria-label={`${formatTime(v.start)}, ${name}`}>
      <Group justify="space-between" align="flex-start" gap="sm">
        <Stack gap={2} style={{ flex: "1 1 260px" }}>
          <Group gap={8}>
            <Text fw={700}>{formatTime(v.start)}</Text>
            <Text size="sm" c="dimmed">{row.car}</Text>
          </Group>
          <AnchorLink to="/pacientes/$patientId" params={{ patientId: v.patient.id }} search={{ aba: "confirmacoes" }} fw={600}>{name}</AnchorLink>
          <Group gap={10}>
            {v.patient.phones.length ? v.patient.phones.map((p) => (
              <a key={p} href={`tel:+55${p.replace(/\D/g, "")}`} className="phone-link">{formatPhone(p)}</a>
            )) : <Text size="sm" c="dimmed">Sem telefone</Text>}
            {v.patient.opted_out && <Badge color="red" size="sm">Não recebe mensagens</Badge>}
          </Group>
          <Text size="xs" c="dimmed">
            {last ? `Última tentativa: ${formatDateTime(last.at)} · ${channelLabel(last.channel)} · ${outcomeLabel(last.outcome)}` : "Nenhuma tentativa ainda"}
            {v.confirmation.attempts ? ` · ${plural(v.confirmation.attempts, "tentativa", "tentativas")}` : ""}
          </Text>
        </Stack>
        <Stack gap={6} style={{ flex: "0 1 440px" }}>
          <Group gap={6} align="flex-end" wrap="wrap">
            <Select size="xs" label="Canal" w={120} value={channel} allowDeselect={false}
              data={CHANNELS.map((c) => ({ value: c, label: channelLabel(c) }))} onChange={(c) => c && setChannel(c as Channel)} />
            <Button size="xs" color="teal.9" loading={log.isPending && log.variables === "confirmed"} onClick={() => log.mutate("confirmed")}>Confirmou</Button>
            <Button size="xs" variant="default" loading={log.isPending && log.variables === "no_answer"} onClick={() => log.mutate("no_answer")}>Não atendeu</Button>
            <Button size="xs" variant="default" loading={log.isPending && log.variables === "declined"} onClick={() => log.mutate("declined")}>Recusou</Button>
            <Button size="xs" variant="default" loading={log.isPending && log.variables === "wrong_number"} onClick={() => log.mutate("wrong_number")}>Número errado</Button>
            <Button size="xs" variant="light" onClick={onMessage} disabled={v.patient.opted_out}>Mensagem…</Button>
          </Group>
          {log.error && <Alert color="red" role="alert" p="xs">{problemMessage(log.error)}</Alert>}
          {done && <Text size="xs" role="status" c="teal.9">{done}</Text>}
        </Stack>
      </Group>
    </Paper>
  );
}

function MessagePanel({ row }: { row: Row }) {
  const v = row.visit;
  const log = useQuery({
    queryKey: ["messages", v.patient.id, v.id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/messages", { params: { query: { patient_id: v.patient.id, visit_id: v.id, limit: 20 } }, signal })),
    // Delivery statuses move as the worker sends and the provider calls back.
    refetchInterval: 3_000,
  });
  return (
    <Stack gap="md">
      <Text size="sm"><strong>{v.patient.name}</strong> · {formatTime(v.start)} · {row.car}</Text>
      <MessageForm visitId={v.id} />
      <div>
        <Title order={3} size="h5" mb={6}>Mensagens desta visita</Title>
        {log.error ? <Problem error={log.error} /> : log.isPending ? <Loading label="Carregando mensagens" /> : log.data.items.length === 0 ? (
          <Text size="sm" c="dimmed">Nenhuma mensagem enviada para esta visita.</Text>
        ) : (
          <Table verticalSpacing={4} fz="sm" data-testid="message-log">
            <Table.Thead><Table.Tr><Table.Th scope="col">Criada</Table.Th><Table.Th scope="col">Mensagem</Table.Th><Table.Th scope="col">Situação</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {log.data.items.map((m) => (
                <Table.Tr key={m.id} title={m.body}>
                  <Table.Td>{formatDateTime(m.created_at)}</Table.Td>
                  <Table.Td>{templateLabel(m.template)} · {channelLabel(m.channel)}</Table.Td>
                  <Table.Td><Badge color={m.status === "failed" ? "red" : m.status === "delivered" || m.status === "read" ? "teal" : "gray"}>{messageStatusLabel(m.status)}</Badge>{m.last_error ? ` ${m.last_error}` : ""}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </div>
    </Stack>
  );
}
