// The trend chart (Mantine Charts over Recharts, ~120 kB gzip) in a chunk of its own, loaded when its
// section scrolls into view: the day's numbers paint without it. A table beside it has the same numbers.
import "@mantine/charts/styles.css";
import { LineChart } from "@mantine/charts";

export function TrendChart({ data }: { data: { dia: string; visitas: number; confirmadas: number; ausentes: number }[] }) {
  return (
    <div aria-hidden="true">
      <LineChart
        h={220}
        data={data}
        dataKey="dia"
        series={[
          { name: "visitas", label: "Visitas", color: "indigo.7" },
          { name: "confirmadas", label: "Confirmadas", color: "teal.8" },
          { name: "ausentes", label: "Ausentes", color: "orange.8" },
        ]}
        withLegend
        withTooltip={false}
        curveType="linear"
        withDots
        // The table beside it is what keyboards and screen readers read: the SVG takes no focus.
        lineChartProps={{ accessibilityLayer: false }}
      />
    </div>
  );
}
