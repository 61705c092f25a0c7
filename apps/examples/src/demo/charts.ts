import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One point of a training curve. */
export interface CurvePoint {
  /** Training step (x axis). */
  step: number;
  /** Metric value (y axis). */
  value: number;
  /** Which run the point belongs to, e.g. `"grpo"` or `"ppo"`. */
  series: string;
}

/** Options of {@link renderLineChart}. */
export interface LineChartOptions {
  /** Chart title. */
  title: string;
  /** Label of the y axis. */
  yLabel: string;
  /** @default 560 */
  width?: number;
  /** @default 240 */
  height?: number;
}

/**
 * Draws a line chart as a standalone SVG string with Vega-Lite, entirely in Node (no browser, no canvas):
 * the spec is compiled to Vega and rendered by a headless view.
 */
export async function renderLineChart(
  points: ReadonlyArray<CurvePoint>,
  options: LineChartOptions,
): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title,
    width: options.width ?? 560,
    height: options.height ?? 240,
    background: "white",
    data: { values: points.filter((point) => Number.isFinite(point.value)) as CurvePoint[] },
    mark: { type: "line", point: points.length <= 60 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "value", type: "quantitative", title: options.yLabel, scale: { zero: false } },
      color: { field: "series", type: "nominal", title: "run" },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
