import {
  ActionIcon, Alert, Button, Fieldset, Group, Select, SimpleGrid, Stack, TagsInput, Text, Textarea, TextInput,
} from "@mantine/core";
import { DateInput, DatesProvider } from "@mantine/dates";
import "@mantine/dates/styles.css";
import { useForm } from "@mantine/form";
import "dayjs/locale/pt-br";
import { useState } from "react";
import type { Schemas } from "../../api/client";
import { ApiProblem, problemMessage } from "../../api/errors";
import { formatCpf, formatPhone } from "../../lib/format";
import { channelLabel, genderLabel, patientStatusLabel, phoneKindLabel, priorityLabel } from "../../lib/labels";

type PatientRead = Schemas["PatientRead"];

export interface PatientFormValues {
  name: string;
  cpf: string;
  birth_date: string | null;
  gender: string | null;
  phones: { number: string; kind: string | null }[];
  email: string;
  preferred_channel: string | null;
  preferred_contact_time: string;
  address: { street: string; number: string; complement: string; neighborhood: string; city: string; state: string; zip_code: string; reference: string };
  health_plan: { code: string; name: string; card_number: string; valid_until: string | null };
  tags: string[];
  priority: string | null;
  special_needs: string;
  collection_preferences: string;
  notes: string;
  status: string;
}

const options = (codes: string[], label: (c: string) => string) => codes.map((value) => ({ value, label: label(value) }));
const GENDERS = options(["female", "male", "other", "unknown"], genderLabel);
const CHANNELS = options(["phone", "sms", "whatsapp", "email"], channelLabel);
const PRIORITIES = options(["low", "normal", "high", "urgent"], priorityLabel);
const PHONE_KINDS = options(["mobile", "landline", "residential", "commercial", "whatsapp", "other"], phoneKindLabel);
const STATUSES = options(["active", "inactive"], patientStatusLabel);

export function initialValues(patient?: PatientRead): PatientFormValues {
  const s = (v: string | null | undefined) => v ?? "";
  return {
    name: s(patient?.name),
    cpf: patient?.cpf ? formatCpf(patient.cpf) : "",
    birth_date: patient?.birth_date ?? null,
    gender: patient?.gender ?? null,
    phones: patient?.phones?.length ? patient.phones.map((p) => ({ number: formatPhone(p.number), kind: p.kind })) : [{ number: "", kind: "mobile" }],
    email: s(patient?.email),
    preferred_channel: patient?.preferred_channel ?? null,
    preferred_contact_time: s(patient?.preferred_contact_time),
    address: {
      street: s(patient?.address.street), number: s(patient?.address.number), complement: s(patient?.address.complement),
      neighborhood: s(patient?.address.neighborhood), city: s(patient?.address.city), state: s(patient?.address.state),
      zip_code: s(patient?.address.zip_code), reference: s(patient?.address.reference),
    },
    health_plan: {
      code: s(patient?.health_plan.code), name: s(patient?.health_plan.name),
      card_number: s(patient?.health_plan.card_number), valid_until: patient?.health_plan.valid_until ?? null,
    },
    tags: patient?.tags ?? [],
    priority: patient?.priority ?? "normal",
    special_needs: s(patient?.special_needs),
    collection_preferences: s(patient?.collection_preferences),
    notes: s(patient?.notes),
    status: patient?.status ?? "active",
  };
}

const blank = (v: string) => (v.trim() === "" ? null : v.trim());

/** The body of POST/PATCH: empty texts as null (cleared), phones without the empty rows. */
export function toBody(values: PatientFormValues, editing: boolean) {
  const body = {
    name: values.name.trim(),
    cpf: blank(values.cpf),
    birth_date: values.birth_date || null,
    gender: values.gender,
    phones: values.phones.filter((p) => p.number.trim()).map((p) => ({ number: p.number.trim(), ...(p.kind ? { kind: p.kind } : {}) })),
    email: blank(values.email),
    preferred_channel: values.preferred_channel,
    preferred_contact_time: blank(values.preferred_contact_time),
    address: Object.fromEntries(Object.entries(values.address).map(([k, v]) => [k, blank(v)])),
    health_plan: {
      code: blank(values.health_plan.code), name: blank(values.health_plan.name),
      card_number: blank(values.health_plan.card_number), valid_until: values.health_plan.valid_until || null,
    },
    tags: values.tags,
    priority: values.priority,
    special_needs: blank(values.special_needs),
    collection_preferences: blank(values.collection_preferences),
    notes: blank(values.notes),
    ...(editing ? { status: values.status } : {}),
  };
  return body as Schemas["PatientCreate"] & { status?: "active" | "inactive" };
}

// Pydantic's error kinds, as a person reads them.
const TYPE_MESSAGES: Record<string, string> = {
  missing: "Campo obrigatório.",
  string_too_long: "Texto longo demais.",
  string_too_short: "Campo obrigatório.",
  value_error: "Valor inválido.",
  date_from_datetime_parsing: "Data inválida.",
  date_parsing: "Data inválida.",
  literal_error: "Escolha uma das opções.",
  too_long: "Itens demais.",
};

/** Where an error of the API belongs in the form: `body.address.zip_code` → `address.zip_code`, `phones[0]` → `phones.0.number`. */
export function formPath(field: string): string {
  let path = field.replace(/^body\./, "").replace(/\[(\d+)\]/g, ".$1").replace(/\.(str|PhoneIn)(?=\.|$)/g, "");
  if (/^phones\.\d+$/.test(path)) path += ".number";
  if (/^phones\.\d+\.PhoneIn\./.test(path)) path = path.replace(".PhoneIn", "");
  return path;
}

/** The API's error as field errors (what it could place) and a general message (what it could not). */
export function fieldErrors(problem: ApiProblem): { fields: Record<string, string>; general: string | null } {
  const fields: Record<string, string> = {};
  const details = problem.details as unknown;
  if (problem.code === "validation_error" && Array.isArray(details)) {
    for (const d of details as { field?: string; type?: string }[]) {
      if (d.field) fields[formPath(d.field)] = TYPE_MESSAGES[d.type ?? ""] ?? "Valor inválido.";
    }
    return { fields, general: Object.keys(fields).length ? null : problem.message };
  }
  const field = (details as { field?: string } | null)?.field;
  if (field) {
    fields[formPath(field)] = problem.message;
    return { fields, general: null };
  }
  if (problem.code === "patient_cpf_exists") {
    fields.cpf = problem.message;
    return { fields, general: null };
  }
  return { fields, general: problem.message };
}

interface Props {
  patient?: PatientRead;
  submitLabel: string;
  onSubmit: (body: ReturnType<typeof toBody>) => Promise<unknown>;
  onCancel?: () => void;
}

export function PatientForm({ patient, submitLabel, onSubmit, onCancel }: Props) {
  const editing = !!patient;
  const form = useForm<PatientFormValues>({
    mode: "controlled",
    initialValues: initialValues(patient),
    validate: {
      name: (v) => (v.trim() ? null : "Informe o nome do paciente."),
      email: (v) => (!v.trim() || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) ? null : "E-mail inválido."),
      address: { state: (v) => (!v.trim() || /^[A-Za-z]{2}$/.test(v.trim()) ? null : "UF deve ter 2 letras.") },
    },
  });
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = form.onSubmit(async (values) => {
    setBusy(true);
    setGeneral(null);
    try {
      await onSubmit(toBody(values, editing));
    } catch (error) {
      if (error instanceof ApiProblem) {
        const { fields, general: rest } = fieldErrors(error);
        form.setErrors(fields);
        setGeneral(rest);
        const firstField = Object.keys(fields)[0];
        if (firstField) document.querySelector<HTMLElement>(`[data-path="${firstField}"]`)?.focus();
      } else {
        setGeneral(problemMessage(error));
      }
    } finally {
      setBusy(false);
    }
  });

  return (
    <DatesProvider settings={{ locale: "pt-br" }}>
      <form onSubmit={submit} noValidate aria-label={editing ? "Editar dados do paciente" : "Cadastrar paciente"}>
        <Stack gap="md">
          {general && <Alert color="red" role="alert" title="Não foi possível salvar">{general}</Alert>}
          {Object.keys(form.errors).length > 0 && !general && (
            <Text role="alert" c="red.8" size="sm">Corrija os campos indicados.</Text>
          )}
          <Fieldset legend="Identificação">
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Nome completo" required withAsterisk data-path="name" {...form.getInputProps("name")} />
              <TextInput label="CPF" placeholder="000.000.000-00" inputMode="numeric" data-path="cpf" {...form.getInputProps("cpf")} />
              <DateInput label="Data de nascimento" valueFormat="DD/MM/YYYY" placeholder="dd/mm/aaaa" clearable clearButtonProps={{ "aria-label": "Limpar data de nascimento" }} data-path="birth_date" {...form.getInputProps("birth_date")} />
              <Select label="Sexo" data={GENDERS} placeholder="Escolha" clearable data-path="gender" {...form.getInputProps("gender")} />
              <Select label="Prioridade" data={PRIORITIES} allowDeselect={false} data-path="priority" {...form.getInputProps("priority")} />
              {editing && <Select label="Situação do cadastro" data={STATUSES} allowDeselect={false} data-path="status" {...form.getInputProps("status")} />}
            </SimpleGrid>
          </Fieldset>
          <Fieldset legend="Contato">
            <Stack gap="sm">
              {form.values.phones.map((_, index) => (
                <Group key={index} align="flex-end" gap="sm" wrap="wrap">
                  <TextInput style={{ flex: "1 1 220px" }} label={`Telefone ${index + 1}`} placeholder="(21) 98765-4321" inputMode="tel"
                    data-path={`phones.${index}.number`} {...form.getInputProps(`phones.${index}.number`)} />
                  <Select w={150} label="Tipo" data={PHONE_KINDS} data-path={`phones.${index}.kind`} {...form.getInputProps(`phones.${index}.kind`)} />
                  <ActionIcon variant="subtle" color="red" size="lg" mb={2} aria-label={`Remover telefone ${index + 1}`}
                    onClick={() => form.removeListItem("phones", index)}>✕</ActionIcon>
                </Group>
              ))}
              {form.values.phones.length < 10 && (
                <Button variant="subtle" size="compact-sm" w="fit-content" onClick={() => form.insertListItem("phones", { number: "", kind: "mobile" })}>
                  Adicionar telefone
                </Button>
              )}
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                <TextInput label="E-mail" type="email" data-path="email" {...form.getInputProps("email")} />
                <Select label="Canal preferido" data={CHANNELS} placeholder="Escolha" clearable data-path="preferred_channel" {...form.getInputProps("preferred_channel")} />
                <TextInput label="Melhor horário para contato" data-path="preferred_contact_time" {...form.getInputProps("preferred_contact_time")} />
              </SimpleGrid>
            </Stack>
          </Fieldset>
          <Fieldset legend="Endereço da coleta">
            <SimpleGrid cols={{ base: 1, sm: 4 }}>
              <TextInput label="Rua" style={{ gridColumn: "span 2" }} data-path="address.street" {...form.getInputProps("address.street")} />
              <TextInput label="Número" data-path="address.number" {...form.getInputProps("address.number")} />
              <TextInput label="Complemento" data-path="address.complement" {...form.getInputProps("address.complement")} />
              <TextInput label="Bairro" data-path="address.neighborhood" {...form.getInputProps("address.neighborhood")} />
              <TextInput label="Cidade" data-path="address.city" {...form.getInputProps("address.city")} />
              <TextInput label="UF" maxLength={2} data-path="address.state" {...form.getInputProps("address.state")} />
              <TextInput label="CEP" placeholder="00000-000" inputMode="numeric" data-path="address.zip_code" {...form.getInputProps("address.zip_code")} />
              <TextInput label="Ponto de referência" style={{ gridColumn: "1 / -1" }} data-path="address.reference" {...form.getInputProps("address.reference")} />
            </SimpleGrid>
          </Fieldset>
          <Fieldset legend="Convênio">
            <SimpleGrid cols={{ base: 1, sm: 4 }}>
              <TextInput label="Código" data-path="health_plan.code" {...form.getInputProps("health_plan.code")} />
              <TextInput label="Nome do convênio" data-path="health_plan.name" {...form.getInputProps("health_plan.name")} />
              <TextInput label="Número da carteirinha" data-path="health_plan.card_number" {...form.getInputProps("health_plan.card_number")} />
              <DateInput label="Validade" valueFormat="DD/MM/YYYY" placeholder="dd/mm/aaaa" clearable clearButtonProps={{ "aria-label": "Limpar validade" }} data-path="health_plan.valid_until" {...form.getInputProps("health_plan.valid_until")} />
            </SimpleGrid>
          </Fieldset>
          <Fieldset legend="Cuidados e observações">
            <Stack gap="sm">
              <TagsInput label="Etiquetas" description="Enter para adicionar" data-path="tags" {...form.getInputProps("tags")} />
              <Textarea label="Necessidades especiais" autosize minRows={2} data-path="special_needs" {...form.getInputProps("special_needs")} />
              <Textarea label="Preferências para a coleta" autosize minRows={2} data-path="collection_preferences" {...form.getInputProps("collection_preferences")} />
              <Textarea label="Observações" autosize minRows={2} data-path="notes" {...form.getInputProps("notes")} />
            </Stack>
          </Fieldset>
          <Group justify="flex-end">
            {onCancel && <Button variant="default" onClick={onCancel}>Cancelar</Button>}
            <Button type="submit" loading={busy}>{submitLabel}</Button>
          </Group>
        </Stack>
      </form>
    </DatesProvider>
  );
}
