/** Only a path of this app (never `//host` or `https://…`, never the login itself) is followed after login. */
export function safeRedirect(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/login")
    ? value
    : "/";
}
