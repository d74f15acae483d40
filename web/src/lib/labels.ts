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
  "patient.merge": "Juntou cadastros", "patient.unmerge": "Separou cadastros", "duplicate.decide": "Decidiu duplicata",
  "user.create": "Criou usuário", "user.update": "Alterou usuário",
});
/** Names of the fields an audit event lists (patients, visits, users). */
export const fieldLabel = table({
  address: "endereço", birth_date: "nascimento", collection_preferences: "preferências de coleta", cpf: "CPF",
  email: "e-mail", gender: "sexo", health_plan: "convênio", name: "nome", notes: "observação", phones: "telefones",
  preferred_channel: "canal preferido", preferred_contact_time: "horário de contato", priority: "prioridade",
  special_needs: "necessidades especiais", tags: "etiquetas", status: "situação", opted_out: "não recebe mensagens",
  start: "início", end: "fim", car_id: "carro", reason: "motivo", role: "perfil", active: "ativo", password: "senha",
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

export const importStatusLabel = table({ queued: "Na fila", processing: "Processando", succeeded: "Concluída", failed: "Falhou" });
export const issueLevelLabel = table({ error: "Erro", warning: "Aviso", skipped: "Ignorada" });
export const layoutLabel = table({ dasaexp: "DasaExp (30 colunas)", simplified: "Simplificado (16 colunas)" });
export const bulkActionLabel = table({
  confirm: "Confirmar", send_message: "Enviar mensagem", reschedule: "Remarcar", move_car: "Trocar de carro",
  add_tags: "Adicionar etiquetas", remove_tags: "Remover etiquetas", export: "Exportar",
});
export const bulkStatusLabel = table({
  queued: "Na fila", running: "Em andamento", cancelling: "Cancelando", done: "Concluído", failed: "Falhou", cancelled: "Cancelado",
});
export const bulkOutcomeLabel = table({ pending: "Aguardando", ok: "Feito", error: "Erro", skipped: "Ignorado" });
export const carStatusLabel = table({ active: "Ativo", maintenance: "Em manutenção", inactive: "Inativo" });
export const personStatusLabel = table({ active: "Ativo", inactive: "Inativo" });
export const rateGroupLabel = table({
  channel: "Canal", neighborhood: "Bairro", hour: "Hora", weekday: "Dia da semana", car: "Carro",
});

/** Colours of statuses, shared by the board, the queue and the profile. */
export function visitStatusColor(status: string): string {
  return { scheduled: "blue", collected: "teal", cancelled: "gray", no_show: "orange" }[status] ?? "gray";
}
export function confirmationColor(status: string): string {
  return { confirmed: "teal", pending: "yellow", declined: "red" }[status] ?? "gray";
}

/** "CARRO 1 · AV CENTER 1": a car is its label and its base (the same label exists in other bases). */
export function carName(label: string | null | undefined, base?: string | null): string {
  if (!label) return "Sem carro";
  return base ? `${label} · ${base}` : label;
}
