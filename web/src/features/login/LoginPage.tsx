import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useRouter, useSearch } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { login } from "../../api/auth";
import { problemMessage } from "../../api/errors";
import { queryClient } from "../../queryClient";
import { safeRedirect } from "./redirect";

export function LoginPage() {
  const { redirect } = useSearch({ from: "/login" });
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await login(String(data.get("email") ?? "").trim(), String(data.get("password") ?? ""));
      queryClient.clear();
      router.history.replace(safeRedirect(redirect));
    } catch (problem) {
      setError(problemMessage(problem));
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md" bg="gray.0" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" w="100%" maw={400}>
        <form onSubmit={submit} noValidate aria-labelledby="login-title">
          <Stack>
            <div>
              <Title order={1} size="h2" id="login-title">Coleta</Title>
              <Text c="dimmed" size="sm">Coleta domiciliar: entre com sua conta da equipe.</Text>
            </div>
            {redirect && !error && (
              <Text size="sm" role="status">Entre novamente para continuar de onde parou.</Text>
            )}
            {error && <Alert color="red" role="alert" title="Não foi possível entrar">{error}</Alert>}
            <TextInput name="email" label="E-mail" type="email" autoComplete="username" required autoFocus />
            <PasswordInput name="password" label="Senha" autoComplete="current-password" required />
            <Button type="submit" loading={busy} fullWidth>Entrar</Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
