import { AnchorLink } from "../lib/links";
import { Alert, AppShell, Badge, Burger, Button, Container, Group, Menu, Stack, Text, Title, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Link, Outlet, useNavigate, useRouter } from "@tanstack/react-router";
import { clearSession } from "../api/auth";
import { problemMessage } from "../api/errors";
import { roleLabel } from "../lib/labels";
import { queryClient } from "../queryClient";
import { useMe } from "../session";

function Logo() {
  return (
    <AnchorLink to="/" underline="never" c="inherit" aria-label="Coleta: início">
      <Group gap={8} wrap="nowrap">
        <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="var(--mantine-color-indigo-8)" />
          <path d="M16 6c-4 6-7 10-7 14a7 7 0 0 0 14 0c0-4-3-8-7-14z" fill="#fff" />
        </svg>
        <Text fw={700} size="lg">Coleta</Text>
      </Group>
    </AnchorLink>
  );
}

type NavTo = "/painel" | "/agenda" | "/confirmacoes" | "/pacientes" | "/importacoes" | "/lotes" | "/frota" | "/admin" | "/motorista";

/** The sections a role may open, in the order of a morning's work. */
export function navLinks(can: ReturnType<typeof useMe>["can"]): { to: NavTo; label: string }[] {
  if (!can.staff) return [{ to: "/motorista", label: "Meu dia" }];
  const links: { to: NavTo; label: string; show: boolean }[] = [
    { to: "/painel", label: "Painel", show: true },
    { to: "/agenda", label: "Agenda", show: true },
    { to: "/confirmacoes", label: "Confirmações", show: can.operate },
    { to: "/pacientes", label: "Pacientes", show: true },
    { to: "/importacoes", label: "Importações", show: true },
    { to: "/lotes", label: "Ações em lote", show: can.operate },
    { to: "/frota", label: "Frota", show: true },
    { to: "/admin", label: "Administração", show: can.administer },
  ];
  return links.filter((l) => l.show);
}

export function Shell() {
  const me = useMe();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure(false);
  const logout = () => {
    clearSession();
    queryClient.clear();
    void navigate({ to: "/login", search: {}, replace: true });
  };
  const links = navLinks(me.can);

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 200, breakpoint: "md", collapsed: { mobile: !opened } }} padding="md">
      <a className="skip-link" href="#conteudo">Pular para o conteúdo</a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label={opened ? "Fechar menu" : "Abrir menu"} />
            <Logo />
          </Group>
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <UnstyledButton aria-label={`Conta: ${me.name}, ${roleLabel(me.role)}`}>
                <Group gap={8} wrap="nowrap">
                  <Text size="sm" fw={500} visibleFrom="xs" truncate maw={180}>{me.name}</Text>
                  <Badge color="gray" variant="light">{roleLabel(me.role)}</Badge>
                </Group>
              </UnstyledButton>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>{me.email}</Menu.Label>
              <Menu.Item onClick={logout}>Sair</Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" component="nav" aria-label="Principal">
        <Stack gap={4}>
          {links.map((l) => (
            <Button key={l.to} component={Link} to={l.to} variant="subtle" justify="flex-start" onClick={close}
              activeOptions={{ includeSearch: false }} activeProps={{ "aria-current": "page", "data-active": true }}
              className="nav-link">
              {l.label}
            </Button>
          ))}
          <Button variant="subtle" justify="flex-start" onClick={logout} hiddenFrom="md">Sair</Button>
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main id="conteudo" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

export function NotFound() {
  return (
    <Container size="sm" py="xl">
      <Title order={1} size="h2" mb="md">Página não encontrada</Title>
      <Text mb="md">O endereço aberto não existe no Coleta.</Text>
      <AnchorLink to="/">Ir para o início</AnchorLink>
    </Container>
  );
}

export function RouteError({ error }: { error: unknown }) {
  const router = useRouter();
  return (
    <Container size="sm" py="xl">
      <Alert color="red" title="Não foi possível abrir esta página" role="alert">
        <Text mb="sm">{problemMessage(error)}</Text>
        <Button variant="light" color="red" onClick={() => void router.invalidate()}>Tentar de novo</Button>
      </Alert>
    </Container>
  );
}
