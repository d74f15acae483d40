import { AnchorLink } from "../../lib/links";
import { Alert, Badge, Button, Container, Group, Loader, Stack, Tabs, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { api, type Schemas } from "../../api/client";
import { ApiProblem, problemMessage, unwrap } from "../../api/errors";
import { formatDate, formatTime, todayIso } from "../../lib/dates";
import { formatCpf, maskCpf } from "../../lib/format";
import { confirmationStatusLabel, patientStatusLabel } from "../../lib/labels";
import { queryClient } from "../../queryClient";
import type { Tab } from "../../router";
import { useMe } from "../../session";
import { lastSearch } from "../search/searchParams";
import { AuditTab, ConfirmationsTab, DataView, MessagesTab, VisitsTab } from "./tabs";
import { PatientForm } from "./PatientForm";

export function patientQuery(id: string) {
  return {
    queryKey: ["patient", id],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      unwrap(api.GET("/api/v1/patients/{patient_id}", { params: { path: { patient_id: id } }, signal })),
  };
}

function age(birth: string | null | undefined): string | null {
  if (!birth) return null;
  const [y, m, d] = birth.split("-").map(Number) as [number, number, number];
  const now = new Date();
  let years = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) years -= 1;
  return `${years} anos`;
}

function NextVisit({ visits }: { visits: Schemas["PatientVisit"][] }) {
  const today = todayIso();
  const next = visits.filter((v) => v.status === "scheduled" && v.date >= today).sort((a, b) => a.start.localeCompare(b.start))[0];
  if (!next) return <Text size="sm" mt={4}>Sem visita agendada.</Text>;
  return (
    <Group gap={6} mt={4}>
      <Text size="sm" fw={500}>Próxima visita: {formatDate(next.date)} às {formatTime(next.start)}{next.car ? ` · ${next.car}` : ""}</Text>
      <Badge color={{ confirmed: "teal", pending: "yellow", declined: "red" }[next.confirmation_status] ?? "gray"}>
        {confirmationStatusLabel(next.confirmation_status)}
      </Badge>
    </Group>
  );
}

export function ProfilePage() {
  const { patientId } = useParams({ from: "/app/pacientes/$patientId" });
  const { aba } = useSearch({ from: "/app/pacientes/$patientId" });
  const navigate = useNavigate({ from: "/pacientes/$patientId" });
  const me = useMe();
  const [editing, setEditing] = useState(false);
  const query = useQuery(patientQuery(patientId));
  const tab: Tab = aba === "auditoria" && !me.can.seeAudit ? "dados" : (aba ?? "dados");

  if (query.isPending) return <Group justify="center" py="xl"><Loader role="status" aria-label="Carregando paciente" /></Group>;
  if (query.error) {
    const notFound = query.error instanceof ApiProblem && query.error.status === 404;
    return (
      <Container size="sm" py="xl">
        <Alert color={notFound ? "yellow" : "red"} role="alert" title={notFound ? "Paciente não encontrado" : "Não foi possível abrir o paciente"}>
          <Text size="sm" mb="sm">{notFound ? "O cadastro pode ter sido excluído." : problemMessage(query.error)}</Text>
          <AnchorLink to="/pacientes">Voltar à busca</AnchorLink>
        </Alert>
      </Container>
    );
  }
  const patient = query.data;
  const masked = !me.can.seeContactsInFull;

  return (
    <Stack maw={1200} mx="auto" gap="md">
      <AnchorLink to="/pacientes" search={lastSearch()} size="sm" w="fit-content">← Voltar à busca</AnchorLink>
      <Group justify="space-between" align="flex-start">
        <div>
          <Group gap="sm" align="center">
            <Title order={1} size="h2" data-testid="patient-name">{patient.name}</Title>
            <Badge color={patient.status === "active" ? "teal" : "gray"}>{patientStatusLabel(patient.status)}</Badge>
            {patient.opted_out_at && <Badge color="red">Não recebe mensagens</Badge>}
          </Group>
          <Text c="dimmed" size="sm">
            CPF {masked ? maskCpf(patient.cpf) : formatCpf(patient.cpf)}
            {patient.birth_date && ` · nascimento ${formatDate(patient.birth_date)} (${age(patient.birth_date)})`}
          </Text>
          <NextVisit visits={patient.visits ?? []} />
        </div>
        {me.can.editPatients && tab === "dados" && !editing && (
          <Button onClick={() => setEditing(true)}>Editar dados</Button>
        )}
      </Group>
      <Tabs value={tab} onChange={(value) => void navigate({ search: value === "dados" ? {} : { aba: value as Tab }, replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="dados">Dados</Tabs.Tab>
          <Tabs.Tab value="visitas">Visitas ({patient.visits?.length ?? 0})</Tabs.Tab>
          <Tabs.Tab value="confirmacoes">Confirmações</Tabs.Tab>
          <Tabs.Tab value="mensagens">Mensagens ({patient.messages?.length ?? 0})</Tabs.Tab>
          {me.can.seeAudit && <Tabs.Tab value="auditoria">Auditoria</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="dados" pt="md">
          {editing ? (
            <PatientForm
              patient={patient}
              submitLabel="Salvar alterações"
              onCancel={() => setEditing(false)}
              onSubmit={async (body) => {
                const updated = await unwrap(api.PATCH("/api/v1/patients/{patient_id}", {
                  params: { path: { patient_id: patient.id } }, body,
                }));
                queryClient.setQueryData(["patient", patient.id], { ...patient, ...updated, messages: patient.messages });
                await queryClient.invalidateQueries({ queryKey: ["patients"] });
                setEditing(false);
              }}
            />
          ) : (
            <DataView patient={patient} masked={masked} />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="visitas" pt="md"><VisitsTab patient={patient} /></Tabs.Panel>
        <Tabs.Panel value="confirmacoes" pt="md"><ConfirmationsTab patient={patient} canRegister={me.can.editPatients} /></Tabs.Panel>
        <Tabs.Panel value="mensagens" pt="md"><MessagesTab patient={patient} /></Tabs.Panel>
        {me.can.seeAudit && <Tabs.Panel value="auditoria" pt="md"><AuditTab patientId={patient.id} /></Tabs.Panel>}
      </Tabs>
    </Stack>
  );
}
