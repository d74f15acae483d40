// The trend charts (Mantine Charts over Recharts, ~120 kB gzip) in a chunk of their own, loaded when their
// section scrolls into view: the day's numbers paint without them. The table beside has the same numbers.
import "@mantine/charts/styles.css";
import { LineChart } from "@mantine/charts";
import { Stack, Text } from "@mantine/core";

export interface TrendRow {
  dia: string;
  visitas: number;
  confirmadas: number;
  ausentes: number;
  confirmacao: number | null;
  ausencia: number | null;
  antecedencia: number | null;
}

// The table beside them is what keyboards and screen readers read: the SVGs take no focus.
const quiet = { accessibilityLayer: false } as const;

export function TrendCharts({ data }: { data: TrendRow[] }) {
  const dots = data.length <= 31;
  return (
    <Stack gap="md" aria-hidden="true">
      <div>
        <Text size="sm" fw={600} mb={4}>Visitas por dia</Text>
        <LineChart
          h={200} data={data} dataKey="dia" curveType="linear" withDots={dots} withLegend withTooltip={false} lineChartProps={quiet}
          series={[
            { name: "visitas", label: "Visitas", color: "indigo.7" },
            { name: "confirmadas", label: "Confirmadas", color: "teal.8" },
            { name: "ausentes", label: "Ausentes", color: "orange.8" },
          ]}
        />
      </div>
      <div>
        <Text size="sm" fw={600} mb={4}>Taxas (%) e antecedência (dias)</Text>
        <LineChart
          h={200} data={data} dataKey="dia" curveType="linear" withDots={dots} withLegend withTooltip={false} lineChartProps={quiet}
          connectNulls unit="%" withRightYAxis rightYAxisProps={{ unit: " d" }} yAxisProps={{ domain: [0, 100] }}
          series={[
            { name: "confirmacao", label: "Confirmação (%)", color: "teal.8" },
            { name: "ausencia", label: "Ausência (%)", color: "orange.8" },
            { name: "antecedencia", label: "Antecedência (dias)", color: "violet.8", yAxisId: "right", strokeDasharray: "5 4" },
          ]}
        />
      </div>
    </Stack>
  );
}
