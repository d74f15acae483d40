// Forms that act on one visit, shared by the board's drawer and the confirmations queue.
import { Alert, Button, Group, Paper, Select, SimpleGrid, Text, Textarea } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/client";
import { problemMessage, unwrap } from "../../api/errors";
import { formatPhone, plural } from "../../lib/format";
import { channelLabel, outcomeLabel, templateLabel, visitStatusLabel } from "../../lib/labels";
import { queryClient } from "../../queryClient";

export const CHANNELS = ["phone", "whatsapp", "sms", "email"] as const;
export const OUTCOMES = ["confirmed", "no_answer", "declined", "reschedule_requested", "wrong_number"] as const;
export const TEMPLATES = ["confirmation_request", "reminder", "reschedule_notice", "preparation"] as const;
export type Channel = (typeof CHANNELS)[number];
export type Outcome = (typeof OUTCOMES)[number];
export type Template = (typeof TEMPLATES)[number];

/** What the template says, in words (the exact text is the API's: it shows in the message log once queued). */
export const TEMPLATE_HINTS: Record<Template, string> = {
  confirmation_request: "Primeiro nome, data, hora e rua da coleta; pede resposta SIM, NÃO ou SAIR.",
  reminder: "Lembrete com primeiro nome, data, hora e rua da coleta.",
  reschedule_notice: "Aviso de nova data e hora, com a rua da coleta.",
  preparation: "Orientação genérica de jejum de 8 horas para a data e hora da coleta.",
};

/**
 * After any change of a visit: the schedule, the visit, the dashboard and the search ask again, and
 * once more a moment later (the schedule and the numbers come from the index, a second behind).
 */
export async function refreshAfterVisitChange(visitId?: string) {
  setTimeout(() => {
    void queryClient.invalidateQueries({ queryKey: ["schedule"] });
    void queryClient.invalidateQueries({ queryKey: ["stats"] });
  }, 1_500);
  await Promise.all([
    queryClient.invalidateQueries({ queryKey: ["schedule"] }),
    queryClient.invalidateQueries({ queryKey: ["stats"] }),
    queryClient.invalidateQueries({ queryKey: ["confirmations"] }),
    queryClient.invalidateQueries({ queryKey: ["patients"] }),
    queryClient.invalidateQueries({ queryKey: ["patient"] }),
    visitId ? queryClient.invalidateQueries({ queryKey: ["visit", visitId] }) : Promise.resolve(),
  ]);
}

export function logAttempt(visitId: string, channel: Channel, outcome: Outcome, notes?: string) {
  return unwrap(api.POST("/api/v1/visits/{visit_id}/confirmation-attempts", {
    params: { path: { visit_id: visitId } }, body: { channel, outcome, notes: notes?.trim() || null },
  }));
}

export function AttemptForm({ visitId, defaultChannel = "phone" }: { visitId: string; defaultChannel?: Channel }) {
  const [channel, setChannel] = useState<Channel>(defaultChannel);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [notes, setNotes] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const mutation = useMutation({
    mutationFn: () => logAttempt(visitId, channel, outcome!, notes),
    onSuccess: async (attempt) => {
      setDone(`Tentativa registrada: ${outcomeLabel(attempt.outcome)}.`);
      setOutcome(null);
      setNotes("");
      await refreshAfterVisitChange(visitId);
    },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); setDone(null); mutation.mutate(); };
  return (
    <form onSubmit={submit} aria-label="Registrar tentativa de confirmação">
      <SimpleGrid cols={2} spacing="sm">
        <Select label="Canal" data={CHANNELS.map((c) => ({ value: c, label: channelLabel(c) }))} value={channel}
          onChange={(v) => v && setChannel(v as Channel)} allowDeselect={false} />
        <Select label="Resultado" data={OUTCOMES.map((o) => ({ value: o, label: outcomeLabel(o) }))} value={outcome}
          onChange={(v) => setOutcome(v as Outcome | null)} placeholder="Escolha" />
      </SimpleGrid>
      <Textarea mt="xs" label="Anotação" value={notes} onChange={(e) => setNotes(e.currentTarget.value)} autosize minRows={1} maxLength={2000} />
      {mutation.error && <Alert mt="xs" color="red" role="alert">{problemMessage(mutation.error)}</Alert>}
      {done && <Text mt="xs" role="status" c="teal.9" size="sm">{done}</Text>}
      <Group justify="flex-end" mt="xs"><Button type="submit" size="sm" loading={mutation.isPending} disabled={!outcome}>Registrar tentativa</Button></Group>
    </form>
  );
}

/** The status moves the API allows: a scheduled visit ends one way; an ended one can be reinstated. */
export function nextStatuses(status: string): string[] {
  return status === "scheduled" ? ["collected", "no_show", "cancelled"] : ["scheduled"];
}

export function StatusForm({ visitId, status }: { visitId: string; status: string }) {
  const options = nextStatuses(status);
  const [next, setNext] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const mutation = useMutation({
    mutationFn: () => unwrap(api.PATCH("/api/v1/visits/{visit_id}", {
      params: { path: { visit_id: visitId } }, body: { status: next as "scheduled" | null, reason: reason.trim() || null },
    })),
    onSuccess: async () => { setNext(null); setReason(""); await refreshAfterVisitChange(visitId); },
  });
  const needsReason = next === "cancelled" || next === "scheduled";
  return (
    <form aria-label="Mudar situação" onSubmit={(e) => { e.preventDefault(); mutation.mutate(); }}>
      <Select label="Nova situação" placeholder="Escolha" value={next} onChange={setNext}
        data={options.map((s) => ({ value: s, label: s === "scheduled" ? "Reativar (agendada)" : visitStatusLabel(s) }))} />
      <Textarea mt="xs" label={needsReason ? "Motivo (obrigatório)" : "Motivo"} value={reason} onChange={(e) => setReason(e.currentTarget.value)}
        autosize minRows={1} maxLength={500} required={needsReason} />
      {mutation.error && <Alert mt="xs" color="red" role="alert">{problemMessage(mutation.error)}</Alert>}
      <Group justify="flex-end" mt="xs">
        <Button type="submit" size="sm" loading={mutation.isPending} disabled={!next || (needsReason && !reason.trim())}>Mudar situação</Button>
      </Group>
    </form>
  );
}

export function sendMessage(visitId: string, template: Template, channel: "sms" | "whatsapp") {
  return unwrap(api.POST("/api/v1/messages", { body: { visit_id: visitId, template, channel } }));
}

export function MessageForm({ visitId, onSent }: { visitId: string; onSent?: (body: string) => void }) {
  const [template, setTemplate] = useState<Template>("confirmation_request");
  const [channel, setChannel] = useState<"sms" | "whatsapp">("whatsapp");
  const [sent, setSent] = useState<string | null>(null);
  // The exact text before sending (nothing stored); a refusal (opted out, no mobile…) says why at once.
  const preview = useQuery({
    queryKey: ["messages", "preview", visitId, template, channel],
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/messages/preview", { body: { visit_id: visitId, template, channel }, signal })),
    retry: false,
  });
  const mutation = useMutation({
    mutationFn: () => sendMessage(visitId, template, channel),
    onSuccess: async (message) => {
      setSent(message.body);
      onSent?.(message.body);
      await queryClient.invalidateQueries({ queryKey: ["messages"] });
    },
  });
  return (
    <form aria-label="Enviar mensagem" onSubmit={(e) => { e.preventDefault(); setSent(null); mutation.mutate(); }}>
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
        <Select label="Modelo" value={template} onChange={(v) => v && setTemplate(v as Template)} allowDeselect={false}
          data={TEMPLATES.map((t) => ({ value: t, label: templateLabel(t) }))} />
        <Select label="Canal" value={channel} onChange={(v) => v && setChannel(v as "sms" | "whatsapp")} allowDeselect={false}
          data={[{ value: "whatsapp", label: "WhatsApp" }, { value: "sms", label: "SMS" }]} />
      </SimpleGrid>
      <Paper withBorder radius="md" p="sm" mt="xs" bg="gray.0" aria-live="polite" data-testid="message-preview">
        {preview.isPending ? <Text size="sm" c="dimmed">Montando o texto…</Text>
          : preview.error ? <Text size="sm" c="red.9" role="alert">{problemMessage(preview.error)}</Text>
          : (
            <>
              <Text size="xs" c="dimmed" mb={4}>
                Para {formatPhone(preview.data.to_phone)} · {channelLabel(preview.data.channel)}
                {preview.data.channel === "sms" ? ` · ${plural(preview.data.segments, "parte", "partes")}` : ""}
              </Text>
              <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>{preview.data.body}</Text>
            </>
          )}
      </Paper>
      {mutation.error && <Alert mt="xs" color="red" role="alert">{problemMessage(mutation.error)}</Alert>}
      {sent && <Text mt="xs" size="sm" role="status" c="teal.9">Mensagem na fila de envio.</Text>}
      <Group justify="flex-end" mt="xs">
        <Button type="submit" size="sm" variant="light" loading={mutation.isPending} disabled={!preview.data}>
          Enviar {channel === "sms" ? "SMS" : "WhatsApp"}
        </Button>
      </Group>
    </form>
  );
}
