// Brazilian identifiers as people read them; masking for roles that must not see them whole.

const digits = (value: string) => value.replace(/\D/g, "");

/** "52998224725" → "529.982.247-25"; a masked or partial value is shown as it came. */
export function formatCpf(cpf: string | null | undefined): string {
  if (!cpf) return "—";
  const d = digits(cpf);
  return d.length === 11 && /^\d+$/.test(cpf.replace(/[.\-\s]/g, ""))
    ? `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6, 9)}-${d.slice(9)}`
    : cpf;
}

/** "21987654321" → "(21) 98765-4321"; "2125551234" → "(21) 2555-1234". */
export function formatPhone(phone: string | null | undefined): string {
  if (!phone) return "—";
  let d = digits(phone);
  if (d.length === 13 && d.startsWith("55")) d = d.slice(2);
  if (!/^\d+$/.test(phone.replace(/[\s()+\-]/g, ""))) return phone; // already masked
  if (d.length === 11) return `(${d.slice(0, 2)}) ${d.slice(2, 7)}-${d.slice(7)}`;
  if (d.length === 10) return `(${d.slice(0, 2)}) ${d.slice(2, 6)}-${d.slice(6)}`;
  return phone;
}

// The masks are the API's own (api/masking.py): the API masks for viewers, and the screens mask
// the same way whatever reaches them, so a value never shows in two forms.

/** A CPF a viewer may see: the middle digits only. */
export function maskCpf(cpf: string | null | undefined): string {
  if (!cpf) return "—";
  const d = digits(cpf);
  if (d.length !== 11) return cpf;
  return `***.${d.slice(3, 6)}.${d.slice(6, 9)}-**`;
}

/** A phone a viewer may see: the last four digits. */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return "—";
  const d = digits(phone);
  if (d.length < 8 || /\*/.test(phone)) return phone;
  const national = d.length === 13 && d.startsWith("55") ? d.slice(2) : d;
  return `(${national.slice(0, 2)}) *****-${national.slice(-4)}`;
}

/** An e-mail a viewer may see: first letter and domain. */
export function maskEmail(email: string | null | undefined): string {
  if (!email) return "—";
  const [user, domain] = email.split("@");
  if (!user || !domain || email.includes("*")) return email;
  return `${user[0]}***@${domain}`;
}

/** Accents and case out, for comparing what was typed with what is shown. */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/** "1234" → "1.234". */
// One formatter for every count: `toLocaleString` builds a new one per call (a facet panel shows dozens).
const counts = new Intl.NumberFormat("pt-BR");

export function formatCount(n: number): string {
  return counts.format(n);
}

/** "31" + "pacientes" → "31 pacientes", with "1 paciente". */
export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
