import {
  Alert, Badge, Button, Group, Loader, Paper, Select, SimpleGrid, Stack, Table, Text, Textarea, Title,
} from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Fragment, type ReactNode, useState } from "react";
import { api, type Schemas } from "../../api/client";
import { HistoryTimeline } from "../../components/HistoryTimeline";
import { problemMessage, unwrap } from "../../api/errors";
import { formatDate, formatDateTime, formatTime, todayIso } from "../../lib/dates";
import { formatPhone, maskEmail, maskPhone } from "../../lib/format";
import {
  auditActionLabel, channelLabel, confirmationStatusLabel, genderLabel, messageStatusLabel, outcomeLabel,
  phoneKindLabel, priorityLabel, roleLabel, sourceLabel, templateLabel, visitStatusLabel,
} from "../../lib/labels";
import { queryClient } from "../../queryClient";

type Patient = Schemas["PatientRead"];
type Visit = Schemas["PatientVisit"];

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={500} component="dt">{label}</Text>
      <Text size="sm" component="dd" m={0}>{children || "—"}</Text>
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={title}>
      <Title order={2} size="h4" mb="sm">{title}</Title>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} component="dl" m={0} spacing="sm">{children}</SimpleGrid>
    </Paper>
  );
}

export function DataView({ patient, masked }: { patient: Patient; masked: boolean }) {
  const a = patient.address;
  const street = [a.street, a.number].filter(Boolean).join(", ");
  return (
    <Stack gap="md" data-testid="patient-data">
      <Section title="Contato">
        {(patient.phones.length ? patient.phones : [null]).map((p, i) => (
          <Field key={i} label={p ? `Telefone (${phoneKindLabel(p.kind)})` : "Telefone"}>
            {p ? (masked ? maskPhone(p.number) : formatPhone(p.number)) : null}
          </Field>
        ))}
        <Field label="E-mail">{masked ? maskEmail(patient.email) : patient.email}</Field>
        <Field label="Canal preferido">{patient.preferred_channel && channelLabel(patient.preferred_channel)}</Field>
        <Field label="Melhor horário">{patient.preferred_contact_time}</Field>
      </Section>
      <Section title="Endereço da coleta">
        <Field label="Rua e número">{street}</Field>
        <Field label="Complemento">{a.complement}</Field>
        <Field label="Bairro">{a.neighborhood}</Field>
        <Field label="Cidade / UF">{[a.city, a.state].filter(Boolean).join(" / ")}</Field>
        <Field label="CEP">{a.zip_code && a.zip_code.replace(/^(\d{5})(\d{3})$/, "$1-$2")}</Field>
        <Field label="Referência">{a.reference}</Field>
      </Section>
      <Section title="Convênio">
        <Field label="Convênio">{[patient.health_plan.code, patient.health_plan.name].filter(Boolean).join(" · ")}</Field>
        <Field label="Carteirinha">{patient.health_plan.card_number}</Field>
        <Field label="Validade">{patient.health_plan.valid_until && formatDate(patient.health_plan.valid_until)}</Field>
      </Section>
      <Section title="Cuidados">
        <Field label="Sexo">{patient.gender && genderLabel(patient.gender)}</Field>
        <Field label="Prioridade">{priorityLabel(patient.priority)}</Field>
        <Field label="Etiquetas">{patient.tags.length ? patient.tags.join(", ") : null}</Field>
        <Field label="Necessidades especiais">{patient.special_needs}</Field>
        <Field label="Preferências para a coleta">{patient.collection_preferences}</Field>
        <Field label="Observações">{patient.notes}</Field>
      </Section>
      <Text size="xs" c="dimmed">Cadastrado em {formatDateTime(patient.created_at)} · atualizado em {formatDateTime(patient.updated_at)}</Text>
    </Stack>
  );
}

function statusColor(status: string) {
  return { scheduled: "blue", collected: "teal", cancelled: "gray", no_show: "orange" }[status] ?? "gray";
}
function confirmationColor(status: string) {
  return { confirmed: "teal", pending: "yellow", declined: "red" }[status] ?? "gray";
}

export function VisitsTab({ patient }: { patient: Patient }) {
  const [open, setOpen] = useState<string | null>(null);
  if (!patient.visits?.length) return <Text>Nenhuma visita registrada para este paciente.</Text>;
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Data</Table.Th><Table.Th scope="col">Horário</Table.Th><Table.Th scope="col">Carro</Table.Th>
            <Table.Th scope="col">Situação</Table.Th><Table.Th scope="col">Confirmação</Table.Th><Table.Th scope="col">Exames</Table.Th>
            <Table.Th scope="col"><span className="sr-only">Histórico</span></Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {patient.visits.map((visit) => (
            <Fragment key={visit.id}>
              <Table.Tr>
                <Table.Td>{formatDate(visit.date)}</Table.Td>
                <Table.Td>{formatTime(visit.start)}–{formatTime(visit.end)}</Table.Td>
                <Table.Td>{visit.car ?? "—"}</Table.Td>
                <Table.Td>
                  <Badge color={statusColor(visit.status)}>{visitStatusLabel(visit.status)}</Badge>
                  {visit.missing_from_latest_export && <Badge color="orange" ml={4}>Fora da última agenda</Badge>}
                </Table.Td>
                <Table.Td><Badge color={confirmationColor(visit.confirmation_status)}>{confirmationStatusLabel(visit.confirmation_status)}</Badge></Table.Td>
                <Table.Td>{visit.exam_codes.length}</Table.Td>
                <Table.Td>
                  <Button size="compact-xs" variant="subtle" aria-expanded={open === visit.id}
                    onClick={() => setOpen(open === visit.id ? null : visit.id)}>
                    {open === visit.id ? "Ocultar histórico" : "Histórico"}
                  </Button>
                </Table.Td>
              </Table.Tr>
              {open === visit.id && (
                <Table.Tr><Table.Td colSpan={7}><VisitHistory visitId={visit.id} /></Table.Td></Table.Tr>
              )}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function VisitHistory({ visitId }: { visitId: string }) {
  const query = useQuery({
    queryKey: ["visit", visitId],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/visits/{visit_id}", { params: { path: { visit_id: visitId } }, signal })),
  });
  if (query.isPending) return <Loader size="sm" role="status" aria-label="Carregando histórico" />;
  if (query.error) return <Alert color="red" role="alert">{problemMessage(query.error)}</Alert>;
  return <HistoryTimeline history={query.data.history ?? []} />;
}

const CHANNELS = ["phone", "whatsapp", "sms", "email"].map((value) => ({ value, label: channelLabel(value) }));
const OUTCOMES = ["confirmed", "no_answer", "declined", "reschedule_requested", "wrong_number"].map((value) => ({ value, label: outcomeLabel(value) }));

export function ConfirmationsTab({ patient, canRegister }: { patient: Patient; canRegister: boolean }) {
  const attempts = (patient.visits ?? []).flatMap((v) => (v.confirmation_attempts ?? []).map((a) => ({ ...a, visit: v })))
    .sort((a, b) => b.at.localeCompare(a.at));
  const today = todayIso();
  const open = (patient.visits ?? []).filter((v) => v.status === "scheduled" && v.date >= today)
    .sort((a, b) => a.start.localeCompare(b.start));
  return (
    <Stack gap="lg">
      {canRegister && <RegisterAttempt patientId={patient.id} visits={open} />}
      <div>
        <Title order={2} size="h4" mb="sm">Tentativas de confirmação</Title>
        {attempts.length === 0 ? <Text>Nenhuma tentativa registrada.</Text> : (
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Quando</Table.Th><Table.Th scope="col">Visita</Table.Th><Table.Th scope="col">Canal</Table.Th>
                  <Table.Th scope="col">Resultado</Table.Th><Table.Th scope="col">Origem</Table.Th><Table.Th scope="col">Anotação</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {attempts.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>{formatDateTime(a.at)}</Table.Td>
                    <Table.Td>{formatDate(a.visit.date)} {formatTime(a.visit.start)}</Table.Td>
                    <Table.Td>{channelLabel(a.channel)}</Table.Td>
                    <Table.Td>{outcomeLabel(a.outcome)}</Table.Td>
                    <Table.Td>{sourceLabel(a.source)}</Table.Td>
                    <Table.Td>{a.notes ?? "—"}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </div>
    </Stack>
  );
}

function RegisterAttempt({ patientId, visits }: { patientId: string; visits: Visit[] }) {
  const [visitId, setVisitId] = useState<string | null>(visits[0]?.id ?? null);
  const [channel, setChannel] = useState<string | null>("phone");
  const [outcome, setOutcome] = useState<string | null>(null);
  const [notes, setNotes] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const mutation = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/visits/{visit_id}/confirmation-attempts", {
      params: { path: { visit_id: visitId! } },
      body: { channel: channel as "phone", outcome: outcome as "confirmed", notes: notes.trim() || null },
    })),
    onSuccess: async (attempt) => {
      setDone(`Tentativa registrada: ${outcomeLabel(attempt.outcome)}.`);
      setOutcome(null);
      setNotes("");
      await queryClient.invalidateQueries({ queryKey: ["patient", patientId] });
      await queryClient.invalidateQueries({ queryKey: ["patients"] });
    },
  });
  if (!visits.length) {
    return <Text c="dimmed" size="sm">Sem visitas futuras agendadas: nada a confirmar.</Text>;
  }
  return (
    <Paper withBorder p="md" radius="md" component="form" aria-label="Registrar tentativa de confirmação"
      onSubmit={(e: React.FormEvent) => { e.preventDefault(); setDone(null); mutation.mutate(); }}>
      <Title order={2} size="h4" mb="sm">Registrar tentativa</Title>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Select label="Visita" data={visits.map((v) => ({ value: v.id, label: `${formatDate(v.date)} ${formatTime(v.start)} · ${v.car ?? "sem carro"} · ${confirmationStatusLabel(v.confirmation_status)}` }))}
          value={visitId} onChange={setVisitId} allowDeselect={false} required />
        <Select label="Canal" data={CHANNELS} value={channel} onChange={setChannel} allowDeselect={false} required />
        <Select label="Resultado" data={OUTCOMES} value={outcome} onChange={setOutcome} required placeholder="Escolha" />
      </SimpleGrid>
      <Textarea mt="sm" label="Anotação" value={notes} onChange={(e) => setNotes(e.currentTarget.value)} autosize minRows={2} maxLength={2000} />
      {mutation.error && <Alert mt="sm" color="red" role="alert">{problemMessage(mutation.error)}</Alert>}
      {done && <Text mt="sm" role="status" c="teal.9">{done}</Text>}
      <Group justify="flex-end" mt="sm">
        <Button type="submit" loading={mutation.isPending} disabled={!visitId || !channel || !outcome}>Registrar</Button>
      </Group>
    </Paper>
  );
}

export function MessagesTab({ patient }: { patient: Patient }) {
  const messages = patient.messages ?? [];
  if (!messages.length) return <Text>Nenhuma mensagem enviada a este paciente.</Text>;
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Criada em</Table.Th><Table.Th scope="col">Canal</Table.Th><Table.Th scope="col">Modelo</Table.Th>
            <Table.Th scope="col">Para</Table.Th><Table.Th scope="col">Situação</Table.Th><Table.Th scope="col">Texto</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {messages.map((m) => (
            <Table.Tr key={m.id}>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{formatDateTime(m.created_at)}</Table.Td>
              <Table.Td>{channelLabel(m.channel)}</Table.Td>
              <Table.Td>{templateLabel(m.template)}</Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{formatPhone(m.to_phone)}</Table.Td>
              <Table.Td><Badge color={m.status === "failed" ? "red" : "gray"}>{messageStatusLabel(m.status)}</Badge></Table.Td>
              <Table.Td><Text size="sm" lineClamp={2}>{m.body}</Text></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function AuditTab({ patientId }: { patientId: string }) {
  const query = useQuery({
    queryKey: ["patient", patientId, "audit"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/patients/{patient_id}/audit", {
      params: { path: { patient_id: patientId }, query: { limit: 100 } }, signal,
    })),
  });
  if (query.isPending) return <Loader size="sm" role="status" aria-label="Carregando auditoria" />;
  if (query.error) return <Alert color="red" role="alert">{problemMessage(query.error)}</Alert>;
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Quando</Table.Th><Table.Th scope="col">Ação</Table.Th><Table.Th scope="col">Perfil</Table.Th>
            <Table.Th scope="col">Campos</Table.Th><Table.Th scope="col">Endereço IP</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {query.data.items.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>{formatDateTime(e.occurred_at)}</Table.Td>
              <Table.Td>{auditActionLabel(e.action)}</Table.Td>
              <Table.Td>{roleLabel(e.actor_role)}</Table.Td>
              <Table.Td>{Array.isArray(e.details?.fields) ? (e.details.fields as string[]).join(", ") : "—"}</Table.Td>
              <Table.Td>{e.ip ?? "—"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
