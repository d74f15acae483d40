import { Alert, Badge, Button, Group, Modal, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useInfiniteQuery, useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { Phones } from "../../components/Phones";
import { DayPicker, UnitPicker } from "../../components/pickers";
import { Loading, Problem } from "../../components/states";
import { addDays, formatDate, formatDateTime, formatLongDate, formatTime, todayIso } from "../../lib/dates";
import { formatCount, formatPhone, plural } from "../../lib/format";
import { carName, channelLabel, messageStatusLabel, outcomeLabel, templateLabel } from "../../lib/labels";
import { AnchorLink } from "../../lib/links";
import type { ConfirmationsSearch } from "../../routeSearch";
import { CHANNELS, logAttempt, MessageForm, refreshAfterVisitChange, type Channel, type Outcome } from "../board/VisitActions";

type QueueItem = Schemas["QueueItem"];

const PAGE = 100;

export function confirmationQueueQuery(date: string, unit: string | undefined, status: "pending" | "declined") {
  return {
    queryKey: ["confirmations", "queue", date, unit ?? null, status],
    queryFn: ({ pageParam, signal }: { pageParam: string | undefined; signal: AbortSignal }) =>
      unwrap(api.GET("/api/v1/confirmations/queue", { params: { query: { date, unit, status: [status], limit: PAGE, cursor: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Schemas["ConfirmationQueue"]) => last.next_cursor ?? undefined,
  };
}

const messageColor = (status: string) => (status === "failed" ? "red" : status === "delivered" || status === "read" ? "teal" : "gray");

/** "A confirmar amanhã": the day's live visits still without a yes, by time then car (GET /confirmations/queue). */
export function ConfirmationsPage() {
  const search = useSearch({ from: "/app/confirmacoes" });
  const navigate = useNavigate({ from: "/confirmacoes" });
  const tomorrow = addDays(todayIso(), 1);
  const date = search.data ?? tomorrow;
  const wanted = search.situacao === "recusadas" ? "declined" : "pending";
  const update = (patch: Partial<ConfirmationsSearch>, replace = true) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace });
  const queue = useInfiniteQuery({ ...confirmationQueueQuery(date, search.unidade, wanted), refetchInterval: 10_000, staleTime: 0 });
  const rows = queue.data?.pages.flatMap((p) => p.items) ?? [];
  const total = queue.data?.pages[0]?.total ?? 0;
  const messageRow = rows.find((r) => r.visit_id === search.mensagem) ?? null;
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
      <ReminderPanel date={date} />
      <Group justify="space-between">
        <SegmentedControl aria-label="Situação da confirmação" value={search.situacao ?? "pendentes"}
          data={[{ value: "pendentes", label: "Sem resposta" }, { value: "recusadas", label: "Recusadas" }]}
          onChange={(v) => update({ situacao: v === "pendentes" ? undefined : "recusadas" })} />
        <Text fw={500} role="status" aria-live="polite" data-testid="queue-count" data-value={queue.data ? total : undefined}>
          {queue.data ? plural(total, wanted === "pending" ? "visita a confirmar" : "visita recusada", wanted === "pending" ? "visitas a confirmar" : "visitas recusadas") : "Carregando…"}
        </Text>
      </Group>
      <Text size="sm" role="status" aria-live="polite" data-testid="last-done" c="teal.9">{lastDone}</Text>
      {queue.error ? <Problem error={queue.error} retry={() => void queue.refetch()} />
        : queue.isPending ? <Loading label="Carregando visitas" />
        : rows.length === 0 ? <Text c="dimmed" py="lg">Nenhuma visita {wanted === "pending" ? "esperando confirmação" : "recusada"} neste dia.</Text>
        : (
          <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: "none" }} data-testid="queue">
            {rows.map((r) => <QueueRow key={r.visit_id} item={r} onMessage={() => update({ mensagem: r.visit_id }, false)} onDone={setLastDone} />)}
          </Stack>
        )}
      {queue.hasNextPage && (
        <Button variant="default" w="fit-content" loading={queue.isFetchingNextPage} onClick={() => void queue.fetchNextPage()}>
          Carregar mais ({formatCount(total - rows.length)} restantes)
        </Button>
      )}
      <Modal opened={!!messageRow} onClose={() => update({ mensagem: undefined })} title="Mensagem ao paciente" size="lg"
        closeButtonProps={{ "aria-label": "Fechar" }}>
        {messageRow && <MessagePanel item={messageRow} />}
      </Modal>
    </Stack>
  );
}

function QueueRow({ item, onMessage, onDone }: { item: QueueItem; onMessage: () => void; onDone: (text: string) => void }) {
  const p = item.patient;
  const [channel, setChannel] = useState<Channel>((p.preferred_channel as Channel | null) ?? "phone");
  const [done, setDone] = useState<string | null>(null);
  const log = useMutation({
    mutationFn: (outcome: Outcome) => logAttempt(item.visit_id, channel, outcome),
    onSuccess: async (attempt) => {
      const text = `${outcomeLabel(attempt.outcome)} (${channelLabel(attempt.channel)}) registrado às ${formatTime(attempt.at)}.`;
      setDone(text);
      onDone(`${p.name}, ${formatTime(item.start)}: ${text}`);
      await refreshAfterVisitChange(item.visit_id);
    },
  });
  const last = item.confirmation.last_attempt;
  const message = item.last_message;
  return (
    <Paper component="li" withBorder p="sm" radius="md" data-visit-id={item.visit_id} aria-label={`${formatTime(item.start)}, ${p.name}`}>
      <Group justify="space-between" align="flex-start" gap="sm">
        <Stack gap={2} style={{ flex: "1 1 260px" }}>
          <Group gap={8}>
            <Text fw={700}>{formatTime(item.start)}</Text>
            <Text size="sm" c="dimmed">{item.car ? carName(item.car.label, item.car.base) : "Sem carro"}</Text>
          </Group>
          <AnchorLink to="/pacientes/$patientId" params={{ patientId: p.id }} search={{ aba: "confirmacoes" }} fw={600}>{p.name}</AnchorLink>
          <Phones phones={p.phones} />
          <Group gap={6}>
            {p.preferred_contact_time && <Text size="xs">Prefere contato: {p.preferred_contact_time}</Text>}
            {p.opted_out && <Badge color="red" size="sm">Não recebe mensagens</Badge>}
          </Group>
          <Text size="xs" c="dimmed">
            {last
              ? `Última tentativa: ${formatDateTime(last.at)} · ${channelLabel(last.channel)} · ${outcomeLabel(last.outcome)}${last.actor_name ? ` · ${last.actor_name}` : ""}`
              : "Nenhuma tentativa ainda"}
            {item.confirmation.attempts ? ` · ${plural(item.confirmation.attempts, "tentativa", "tentativas")}` : ""}
          </Text>
          {message && (
            <Group gap={6} data-testid="last-message">
              <Text size="xs" c="dimmed">Última mensagem: {templateLabel(message.template)} por {channelLabel(message.channel)}, {formatDateTime(message.at)}</Text>
              <Badge size="xs" color={messageColor(message.status)}>{messageStatusLabel(message.status)}</Badge>
            </Group>
          )}
        </Stack>
        <Stack gap={6} style={{ flex: "0 1 440px" }}>
          <Group gap={6} align="flex-end" wrap="wrap">
            <Select size="xs" label="Canal" w={120} value={channel} allowDeselect={false}
              data={CHANNELS.map((c) => ({ value: c, label: channelLabel(c) }))} onChange={(c) => c && setChannel(c as Channel)} />
            <Button size="xs" color="teal.9" loading={log.isPending && log.variables === "confirmed"} onClick={() => log.mutate("confirmed")}>Confirmou</Button>
            <Button size="xs" variant="default" loading={log.isPending && log.variables === "no_answer"} onClick={() => log.mutate("no_answer")}>Não atendeu</Button>
            <Button size="xs" variant="default" loading={log.isPending && log.variables === "declined"} onClick={() => log.mutate("declined")}>Recusou</Button>
            <Button size="xs" variant="default" loading={log.isPending && log.variables === "wrong_number"} onClick={() => log.mutate("wrong_number")}>Número errado</Button>
            <Button size="xs" variant="light" onClick={onMessage} disabled={p.opted_out}>Mensagem…</Button>
          </Group>
          {log.error && <Alert color="red" role="alert" p="xs">{problemMessage(log.error)}</Alert>}
          {done && <Text size="xs" role="status" c="teal.9">{done}</Text>}
        </Stack>
      </Group>
    </Paper>
  );
}

function MessagePanel({ item }: { item: QueueItem }) {
  const log = useQuery({
    queryKey: ["messages", "visit", item.visit_id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/messages", { params: { query: { visit_id: item.visit_id, limit: 20 } }, signal })),
    // Delivery statuses move as the worker sends and the provider calls back.
    refetchInterval: 3_000,
  });
  return (
    <Stack gap="md">
      <Text size="sm"><strong>{item.patient.name}</strong> · {formatTime(item.start)} · {item.car ? carName(item.car.label, item.car.base) : "Sem carro"}</Text>
      <MessageForm visitId={item.visit_id} />
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
                  <Table.Td><Badge color={messageColor(m.status)}>{messageStatusLabel(m.status)}</Badge>{m.last_error ? ` ${m.last_error}` : ""}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </div>
    </Stack>
  );
}

const EXCLUDED: [keyof Schemas["ReminderExcluded"], string][] = [
  ["confirmed", "já confirmadas"], ["declined", "recusadas"], ["already_sent", "já lembradas"],
  ["opted_out", "não recebem mensagens"], ["no_mobile_phone", "sem celular"], ["invalid", "com dados inválidos"],
];

/** The daily reminder for this day: when it runs, how many it writes to, who it leaves out and why (GET /messages/reminder). */
function ReminderPanel({ date }: { date: string }) {
  const reminder = useQuery({
    queryKey: ["messages", "reminder", date],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/messages/reminder", { params: { query: { date } }, signal })),
    refetchInterval: 30_000,
  });
  // The next run and the day it reminds (asked without a day): said only when it is this page's day.
  const upcoming = useQuery({
    queryKey: ["messages", "reminder", "next"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/messages/reminder", { signal })),
    refetchInterval: 60_000,
  });
  const [open, setOpen] = useState(false);
  if (reminder.error) return <Problem error={reminder.error} title="Não foi possível ler o lembrete diário" />;
  if (reminder.isPending) return null;
  const r = reminder.data;
  const next = upcoming.data?.enabled && upcoming.data.target_date === date ? upcoming.data.next_run_at : null;
  const excluded = EXCLUDED.filter(([key]) => r.excluded[key] > 0);
  const count = <strong data-testid="reminder-recipients" data-value={r.recipients}>{plural(r.recipients, "paciente", "pacientes")}</strong>;
  return (
    <Paper withBorder p="sm" radius="md" component="section" aria-labelledby="reminder-title" data-testid="reminder">
      <Group justify="space-between" align="flex-start" gap="xs">
        <div>
          <Group gap={8}>
            <Title order={2} size="h5" id="reminder-title">Lembrete diário</Title>
            <Badge color={r.enabled ? "teal" : "gray"}>{r.enabled ? "Ativo" : "Desligado"}</Badge>
          </Group>
          <Text size="sm">
            {next
              ? <>Sai {formatDateTime(next)} por {channelLabel(r.channel)}, para {count} com visita em {formatDate(date)}.</>
              : <>Para as visitas de {formatDate(date)}, por {channelLabel(r.channel)}: {count} pela regra do lembrete, agora.</>}
          </Text>
          {excluded.length > 0 && (
            <Text size="xs" c="dimmed">Ficam de fora: {excluded.map(([key, label]) => `${formatCount(r.excluded[key])} ${label}`).join(", ")}.</Text>
          )}
        </div>
        {r.recipients > 0 && (
          <Button size="xs" variant="default" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? "Esconder destinatários" : "Ver destinatários"}
          </Button>
        )}
      </Group>
      {open && <ReminderRecipients date={date} />}
    </Paper>
  );
}

function ReminderRecipients({ date }: { date: string }) {
  const list = useInfiniteQuery({
    queryKey: ["messages", "reminder", date, "recipients"],
    queryFn: ({ pageParam, signal }) => unwrap(api.GET("/api/v1/messages/reminder/recipients", {
      params: { query: { date, limit: 100, cursor: pageParam } }, signal,
    })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  if (list.error) return <Problem error={list.error} />;
  if (list.isPending) return <Loading label="Carregando destinatários" />;
  const items = list.data.pages.flatMap((p) => p.items);
  return (
    <Stack gap={6} mt="sm">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing={6} component="ul" p={0} m={0} style={{ listStyle: "none" }}>
        {items.map((i) => (
          <Text component="li" size="sm" key={i.visit_id}>
            <strong>{formatTime(i.start)}</strong> {i.patient_name} · {formatPhone(i.to_phone)}
            <Text span size="xs" c="dimmed"> · {i.car ? carName(i.car.label, i.car.base) : "Sem carro"}</Text>
          </Text>
        ))}
      </SimpleGrid>
      {list.hasNextPage && (
        <Button size="xs" variant="default" w="fit-content" loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>Carregar mais</Button>
      )}
    </Stack>
  );
}
