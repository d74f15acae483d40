import { createTheme, type CSSVariablesResolver } from "@mantine/core";

// Shades dark enough for WCAG AA text contrast on white (Mantine's defaults are lighter).
export const theme = createTheme({
  primaryColor: "indigo",
  primaryShade: { light: 8, dark: 5 },
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  defaultRadius: "md",
  cursorType: "pointer",
  components: {
    Badge: { defaultProps: { variant: "light" } },
  },
});

export const cssVariables: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    // Text of the light and subtle variants (badges, light buttons): Mantine's shade 9 of these
    // colours is below AA (4.5:1) on their own tint, so a darker tone of the same hue.
    "--mantine-color-orange-light-color": "#98320a",
    "--mantine-color-indigo-light-color": "#2c3e9e",
    "--mantine-color-red-light-color": "#8d1d1d",
    "--mantine-color-yellow-light-color": "#8a4a00",
    "--mantine-color-teal-light-color": "#065940",
    "--mantine-color-green-light-color": "#1e602b",
    "--mantine-color-dimmed": "var(--mantine-color-gray-7)",
    "--mantine-color-error": "var(--mantine-color-red-8)",
    "--mantine-color-placeholder": "var(--mantine-color-gray-6)",
  },
  dark: {},
});
