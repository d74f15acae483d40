import { Alert, Container, Stack, Title } from "@mantine/core";
import { useNavigate } from "@tanstack/react-router";
import { api } from "../../api/client";
import { unwrap } from "../../api/errors";
import { queryClient } from "../../queryClient";
import { useMe } from "../../session";
import { PatientForm } from "./PatientForm";

export function CreatePage() {
  const me = useMe();
  const navigate = useNavigate();
  if (!me.can.editPatients) {
    return <Container size="sm" py="xl"><Alert color="yellow" title="Sem permissão">Seu perfil pode consultar pacientes, mas não cadastrar.</Alert></Container>;
  }
  return (
    <Container size="lg">
      <Stack>
        <Title order={1} size="h2">Novo paciente</Title>
        <PatientForm
          submitLabel="Cadastrar paciente"
          onCancel={() => window.history.back()}
          onSubmit={async (body) => {
            const { status: _status, ...create } = body;
            const patient = await unwrap(api.POST("/api/v1/patients", { body: create }));
            queryClient.setQueryData(["patient", patient.id], patient);
            await queryClient.invalidateQueries({ queryKey: ["patients"] });
            await navigate({ to: "/pacientes/$patientId", params: { patientId: patient.id }, search: {} });
          }}
        />
      </Stack>
    </Container>
  );
}
