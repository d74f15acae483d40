// pt-BR labels of the API's codes. An unknown code is shown as it came (never hidden).

const table = (entries: Record<string, string>) => (code: string | null | undefined) =>
  code == null || code === "" ? "—" : entries[code] ?? code;

export const confirmationStatusLabel = table({ confirmed: "Confirmada", pending: "Pendente", declined: "Recusada" });
export const visitStatusLabel = table({
  scheduled: "Agendada", cancelled: "Cancelada", collected: "Coletada", no_show: "Paciente ausente",
});
export const priorityLabel = table({ low: "Baixa", normal: "Normal", high: "Alta", urgent: "Urgente" });
export const channelLabel = table({ phone: "Telefone", sms: "SMS", whatsapp: "WhatsApp", email: "E-mail" });
export const outcomeLabel = table({
  confirmed: "Confirmou", no_answer: "Não atendeu", declined: "Recusou",
  reschedule_requested: "Pediu para remarcar", wrong_number: "Número errado",
});
export const genderLabel = table({ female: "Feminino", male: "Masculino", other: "Outro", unknown: "Não informado" });
export const roleLabel = table({ admin: "Administrador", operator: "Operador", viewer: "Consulta", driver: "Motorista" });
export const patientStatusLabel = table({ active: "Ativo", inactive: "Inativo" });
export const phoneKindLabel = table({
  mobile: "Celular", landline: "Fixo", residential: "Residencial", commercial: "Comercial", whatsapp: "WhatsApp", other: "Outro",
});
export const messageStatusLabel = table({
  queued: "Na fila", sending: "Enviando", sent: "Enviada", delivered: "Entregue", read: "Lida",
  failed: "Falhou", cancelled: "Cancelada",
});
export const templateLabel = table({
  confirmation_request: "Pedido de confirmação", reminder: "Lembrete",
  reschedule_notice: "Aviso de remarcação", preparation: "Preparo para o exame",
});
export const sourceLabel = table({ staff: "Equipe", inbound_message: "Resposta do paciente", import: "Importação" });
export const auditActionLabel = table({
  "patient.read": "Consultou", "patient.update": "Alterou", "patient.create": "Cadastrou",
  "patient.delete": "Excluiu", "patient.bulk": "Ação em lote", "patient.export": "Exportou",
});
export const historyKindLabel = table({ created: "Criada", status: "Mudança de status", rescheduled: "Remarcada" });

export const FACET_LABELS: Record<string, string> = {
  confirmation_status: "Confirmação",
  car: "Carro",
  unit: "Unidade",
  neighborhood: "Bairro",
  health_plan: "Convênio",
  tag: "Etiqueta",
};

/** How a facet value reads: codes of enumerations translated, the rest as the index holds them. */
export function facetValueLabel(facet: string, value: string): string {
  return facet === "confirmation_status" ? confirmationStatusLabel(value) : value;
}
