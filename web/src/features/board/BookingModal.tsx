// Manual booking: a patient (found as you type), a car, a start and a length.
import { Alert, Autocomplete, Button, Group, Modal, Select, SimpleGrid, Stack, TagsInput, Text, Textarea } from "@mantine/core";
import { DayInput, TimeSelect } from "../../components/DayInput";
import { useDebouncedValue } from "@mantine/hooks";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { localDateTime } from "../../lib/dates";
import { carOption, carsQuery } from "../../lib/reference";
import { suggestQuery } from "../search/queries";
import { refreshAfterVisitChange } from "./VisitActions";

export default function BookingModal({ date, unit, onClose }: { date: string; unit?: string; onClose: () => void }) {
  const [text, setText] = useState("");
  const [patient, setPatient] = useState<{ id: string; name: string } | null>(null);
  const [debounced] = useDebouncedValue(text, 200);
  const suggestions = useQuery(suggestQuery(debounced));
  const cars = useQuery(carsQuery);
  const [day, setDay] = useState(date);
  const [car, setCar] = useState<string | null>(null);
  const [time, setTime] = useState("07:20");
  const [length, setLength] = useState("40");
  const [exams, setExams] = useState<string[]>([]);
  const [notes, setNotes] = useState("");
  const [warnings, setWarnings] = useState<string[] | null>(null);
  const options = (suggestions.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.name}${s.cpf_masked ? ` · CPF ${s.cpf_masked}` : ""}` }));
  const carOptions = (cars.data?.items ?? []).filter((c) => c.status === "active" && (!unit || c.unit_code === unit)).map(carOption);
  const book = useMutation({
    mutationFn: () => {
      const [h, m] = time.split(":").map(Number) as [number, number];
      const start = h * 60 + m;
      return unwrap(api.POST("/api/v1/visits", {
        body: {
          patient_id: patient!.id, car_id: car!, start: localDateTime(day, start), end: localDateTime(day, start + Number(length)),
          exam_codes: exams, notes: notes.trim() || null,
        },
      }));
    },
    onSuccess: async (visit) => {
      await refreshAfterVisitChange(visit.id);
      if (visit.warnings?.length) setWarnings(visit.warnings.map((w) => w.message));
      else onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title="Nova visita" size="lg" closeButtonProps={{ "aria-label": "Fechar" }}>
      {warnings ? (
        <Stack>
          <Alert color="yellow" title="Visita agendada, com avisos" role="status">
            {warnings.map((w) => <Text size="sm" key={w}>{w}</Text>)}
          </Alert>
          <Group justify="flex-end"><Button onClick={onClose}>Fechar</Button></Group>
        </Stack>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); book.mutate(); }}>
          <Stack gap="sm">
            <Autocomplete
              label="Paciente" placeholder="Nome, CPF ou telefone" required value={text}
              data={options.map((o) => o.label)}
              filter={({ options: all }) => all}
              onChange={(v) => { setText(v); const hit = options.find((o) => o.label === v); setPatient(hit ? { id: hit.value, name: hit.label } : null); }}
              error={text.length > 2 && !patient && !suggestions.isFetching && options.length === 0 ? "Nenhum paciente com esse nome: cadastre-o antes." : undefined}
            />
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <DayInput label="Dia" value={day} onChange={setDay} required w="100%" />
              <Select label="Carro" data={carOptions} value={car} onChange={setCar} required searchable placeholder="Escolha" />
              <TimeSelect label="Início" value={time} onChange={setTime} />
              <Select label="Duração" value={length} onChange={(v) => v && setLength(v)} allowDeselect={false}
                data={[{ value: "30", label: "30 minutos" }, { value: "40", label: "40 minutos" }, { value: "60", label: "1 hora" }]} />
            </SimpleGrid>
            <TagsInput label="Códigos dos exames" value={exams} onChange={setExams} placeholder="Digite o código e Enter" />
            <Textarea label="Observação" value={notes} onChange={(e) => setNotes(e.currentTarget.value)} autosize minRows={2} maxLength={2000} />
            {book.error && <Alert color="red" role="alert" title="Não foi possível agendar">{problemMessage(book.error)}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>Cancelar</Button>
              <Button type="submit" loading={book.isPending} disabled={!patient || !car}>Agendar</Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
