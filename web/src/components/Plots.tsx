/**
 * Small hand-written SVG plots with text alternatives: an interval plot (a point with an
 * error bar per row) and grouped histograms. Each plot names itself for screen readers and
 * carries its numbers in a table.
 */
import { useId } from "react";

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

export interface IntervalRow {
  label: string;
  value: number;
  lo: number;
  hi: number;
  note?: string;
}

export function IntervalPlot(props: {
  title: string;
  description: string;
  rows: IntervalRow[];
  xLabel: string;
  reference?: number;
  digits?: number;
  domain?: [number, number];
}) {
  const id = useId();
  const { rows, digits = 2 } = props;
  const labelW = Math.min(220, 12 + 7.2 * Math.max(4, ...rows.map((r) => r.label.length)));
  const W = 640;
  const rowH = 28;
  const top = 10;
  const H = top + rows.length * rowH + 40;
  let lo = props.domain?.[0] ?? Math.min(...rows.map((r) => r.lo), props.reference ?? Infinity);
  let hi = props.domain?.[1] ?? Math.max(...rows.map((r) => r.hi), props.reference ?? -Infinity);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  if (!props.domain) [lo, hi] = [lo - pad, hi + pad];
  const x = (v: number) => labelW + ((v - lo) / (hi - lo)) * (W - labelW - 20);
  const axisY = top + rows.length * rowH + 4;
  return (
    <figure className="plot">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} width="100%">
        <title id={`${id}-t`}>{props.title}</title>
        <desc id={`${id}-d`}>{props.description}</desc>
        {ticks(lo, hi).map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={top} y2={axisY} className="grid" />
            <text x={x(t)} y={axisY + 16} textAnchor="middle" className="tick">
              {t}
            </text>
          </g>
        ))}
        {props.reference !== undefined && <line x1={x(props.reference)} x2={x(props.reference)} y1={top} y2={axisY} className="ref" />}
        {rows.map((r, i) => {
          const y = top + i * rowH + rowH / 2;
          return (
            <g key={r.label}>
              <text x={labelW - 8} y={y + 4} textAnchor="end" className="label">
                {r.label}
              </text>
              <line x1={x(r.lo)} x2={x(r.hi)} y1={y} y2={y} className="bar" />
              <line x1={x(r.lo)} x2={x(r.lo)} y1={y - 6} y2={y + 6} className="bar" />
              <line x1={x(r.hi)} x2={x(r.hi)} y1={y - 6} y2={y + 6} className="bar" />
              <circle cx={x(r.value)} cy={y} r={5} className="dot" />
            </g>
          );
        })}
        <text x={(labelW + W) / 2} y={H - 4} textAnchor="middle" className="axis-label">
          {props.xLabel}
        </text>
      </svg>
      <figcaption>
        <details>
          <summary>{props.title}: data</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col">value</th>
                <th scope="col">low</th>
                <th scope="col">high</th>
                {rows.some((r) => r.note) && <th scope="col">note</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.label}>
                  <th scope="row">{r.label}</th>
                  <td>{fmt(r.value, digits)}</td>
                  <td>{fmt(r.lo, digits)}</td>
                  <td>{fmt(r.hi, digits)}</td>
                  {rows.some((q) => q.note) && <td>{r.note}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}

export interface Series {
  name: string;
  counts: number[];
}

/** Bars per bin, one colour (and pattern) per series, side by side. */
export function Histogram(props: { title: string; description: string; bins: string[]; series: Series[]; xLabel: string }) {
  const id = useId();
  const { bins, series } = props;
  const W = 640;
  const H = 220;
  const left = 40;
  const bottom = 44;
  const max = Math.max(1, ...series.flatMap((s) => s.counts));
  const bw = (W - left - 10) / Math.max(1, bins.length);
  const inner = (bw * 0.8) / Math.max(1, series.length);
  const y = (v: number) => 10 + (1 - v / max) * (H - bottom - 10);
  return (
    <figure className="plot">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} width="100%">
        <title id={`${id}-t`}>{props.title}</title>
        <desc id={`${id}-d`}>{props.description}</desc>
        {ticks(0, max, 4).map((t) => (
          <g key={t}>
            <line x1={left} x2={W - 10} y1={y(t)} y2={y(t)} className="grid" />
            <text x={left - 6} y={y(t) + 4} textAnchor="end" className="tick">
              {t}
            </text>
          </g>
        ))}
        {bins.map((b, i) => (
          <g key={b}>
            {series.map((s, j) => {
              const v = s.counts[i] ?? 0;
              return <rect key={s.name} x={left + i * bw + bw * 0.1 + j * inner} y={y(v)} width={inner - 1} height={y(0) - y(v)} className={`series-${j}`} />;
            })}
            <text x={left + i * bw + bw / 2} y={H - bottom + 16} textAnchor="middle" className="tick">
              {b}
            </text>
          </g>
        ))}
        <text x={(left + W) / 2} y={H - 6} textAnchor="middle" className="axis-label">
          {props.xLabel}
        </text>
      </svg>
      <figcaption>
        {series.length > 1 && (
          <ul className="legend">
            {series.map((s, j) => (
              <li key={s.name}>
                <span className={`swatch series-${j}`} aria-hidden="true" /> {s.name}
              </li>
            ))}
          </ul>
        )}
        <SeriesTable title={props.title} xLabel={props.xLabel} names={series.map((s) => s.name)} rows={bins.map((b, i) => ({ x: b, cells: series.map((s) => String(s.counts[i] ?? 0)) }))} />
      </figcaption>
    </figure>
  );
}

/** Equal-width bins over values from several series (e.g. lengths of preferred and rejected outputs). */
export function binValues(series: { name: string; values: number[] }[], nBins = 10): { bins: string[]; series: Series[] } {
  const all = series.flatMap((s) => s.values);
  if (all.length === 0) return { bins: [], series: series.map((s) => ({ name: s.name, counts: [] })) };
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const width = Math.max(1, Math.ceil((hi - lo + 1) / nBins));
  const n = Math.max(1, Math.ceil((hi - lo + 1) / width));
  const bins = Array.from({ length: n }, (_, i) => `${lo + i * width}–${lo + (i + 1) * width - 1}`);
  return {
    bins,
    series: series.map((s) => {
      const counts = new Array<number>(n).fill(0);
      for (const v of s.values) counts[Math.min(n - 1, Math.floor((v - lo) / width))]!++;
      return { name: s.name, counts };
    }),
  };
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
}

/** Colour-blind-safe colours (Okabe and Ito); past eight series the lines also change dash. */
const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#8c6d00"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];
export const seriesStyle = (j: number) => ({ stroke: PALETTE[j % PALETTE.length]!, dash: DASHES[Math.floor(j / PALETTE.length) % DASHES.length]! });

/**
 * Lines over a shared x axis (training step, label budget, noise level...), one per series, with markers, an
 * optional dashed horizontal reference, a legend and the numbers in a table.
 */
export function LinePlot(props: {
  title: string;
  description: string;
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  yDomain?: [number, number];
  /** "log2" spaces x = 1, 2, 4, 8... evenly (best-of-n's n). */
  xScale?: "linear" | "log2";
  reference?: { y: number; label: string };
  digits?: number;
}) {
  const id = useId();
  const { series, digits = 2 } = props;
  const W = 640;
  const H = 300;
  const left = 52;
  const right = 14;
  const top = 12;
  const bottom = 46;
  const fx = props.xScale === "log2" ? (v: number) => Math.log2(Math.max(v, 1e-9)) : (v: number) => v;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).concat(props.reference ? [props.reference.y] : []);
  let [x0, x1] = xs.length ? [Math.min(...xs.map(fx)), Math.max(...xs.map(fx))] : [0, 1];
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1];
  let [y0, y1] = props.yDomain ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1]);
  if (!props.yDomain) {
    if (!(y1 > y0)) [y0, y1] = [y0 - 1, y1 + 1];
    const pad = (y1 - y0) * 0.06;
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const X = (v: number) => left + ((fx(v) - x0) / (x1 - x0)) * (W - left - right);
  const Y = (v: number) => top + (1 - (v - y0) / (y1 - y0)) * (H - top - bottom);
  // Whole-number axes (turns, steps, label budgets) get whole-number ticks only.
  const xTicks = props.xScale === "log2" ? [...new Set(xs)].sort((a, b) => a - b) : ticks(x0, x1, 6).filter((t) => !xs.every(Number.isInteger) || Number.isInteger(t));
  const allX = [...new Set(xs)].sort((a, b) => a - b);
  return (
    <figure className="plot">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} width="100%">
        <title id={`${id}-t`}>{props.title}</title>
        <desc id={`${id}-d`}>{props.description}</desc>
        {ticks(y0, y1, 5).map((t) => (
          <g key={`y${t}`}>
            <line x1={left} x2={W - right} y1={Y(t)} y2={Y(t)} className="grid" />
            <text x={left - 6} y={Y(t) + 4} textAnchor="end" className="tick">
              {t}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={`x${t}`} x={X(t)} y={H - bottom + 16} textAnchor="middle" className="tick">
            {t}
          </text>
        ))}
        {props.reference && (
          <g>
            <line x1={left} x2={W - right} y1={Y(props.reference.y)} y2={Y(props.reference.y)} className="ref" />
            <text x={W - right - 4} y={Y(props.reference.y) - 5} textAnchor="end" className="tick">
              {props.reference.label}
            </text>
          </g>
        )}
        {series.map((s, j) => {
          const st = seriesStyle(j);
          const pts = [...s.points].sort((a, b) => a.x - b.x);
          return (
            <g key={s.name} data-series={s.name}>
              <polyline points={pts.map((p) => `${X(p.x)},${Y(p.y)}`).join(" ")} fill="none" stroke={st.stroke} strokeWidth={2} strokeDasharray={st.dash || undefined} />
              {pts.map((p) => (
                <circle key={p.x} cx={X(p.x)} cy={Y(p.y)} r={2.8} fill={st.stroke} />
              ))}
            </g>
          );
        })}
        <text x={(left + W - right) / 2} y={H - 6} textAnchor="middle" className="axis-label">
          {props.xLabel}
        </text>
        <text transform={`translate(13 ${(top + H - bottom) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
          {props.yLabel}
        </text>
      </svg>
      <figcaption>
        {series.length > 1 && (
          <ul className="legend">
            {series.map((s, j) => {
              const st = seriesStyle(j);
              return (
                <li key={s.name}>
                  <svg width="22" height="10" aria-hidden="true" className="legend-line">
                    <line x1="1" x2="21" y1="5" y2="5" stroke={st.stroke} strokeWidth={2.5} strokeDasharray={st.dash || undefined} />
                  </svg>{" "}
                  {s.name}
                </li>
              );
            })}
          </ul>
        )}
        <SeriesTable
          title={props.title}
          xLabel={props.xLabel}
          names={series.map((s) => s.name)}
          rows={allX.map((x) => ({
            x: String(x),
            cells: series.map((s) => {
              const p = s.points.find((q) => q.x === x);
              return p ? fmt(p.y, digits) : "";
            }),
          }))}
        />
      </figcaption>
    </figure>
  );
}

/** A plot's numbers, one row per x and one column per series, folded under the plot. */
function SeriesTable(props: { title: string; xLabel: string; names: string[]; rows: { x: string; cells: string[] }[] }) {
  return (
    <details>
      <summary>{props.title}: data</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">{props.xLabel}</th>
            {props.names.map((n) => (
              <th scope="col" key={n}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.x}>
              <th scope="row">{r.x}</th>
              {r.cells.map((c, k) => (
                <td key={props.names[k]}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export interface BarSeries {
  name: string;
  /** One value per category (undefined: no bar). */
  values: Array<number | undefined>;
}

/**
 * Bars side by side per category (tasks...), one colour per series, with an optional dashed reference line, a
 * legend and the numbers in a table.
 */
export function GroupedBars(props: {
  title: string;
  description: string;
  categories: string[];
  series: BarSeries[];
  xLabel: string;
  yLabel: string;
  yDomain?: [number, number];
  digits?: number;
}) {
  const id = useId();
  const { categories, series, digits = 1 } = props;
  const W = 640;
  const H = 280;
  const left = 52;
  const right = 10;
  const top = 12;
  const bottom = 64;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const [y0, yTop] = props.yDomain ?? [Math.min(0, ...all), Math.max(1, ...all)];
  const y1 = yTop > y0 ? yTop : y0 + 1;
  const Y = (v: number) => top + (1 - (v - y0) / (y1 - y0)) * (H - top - bottom);
  const bw = (W - left - right) / Math.max(1, categories.length);
  const inner = (bw * 0.8) / Math.max(1, series.length);
  return (
    <figure className="plot">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} width="100%">
        <title id={`${id}-t`}>{props.title}</title>
        <desc id={`${id}-d`}>{props.description}</desc>
        {ticks(y0, y1, 5).map((t) => (
          <g key={t}>
            <line x1={left} x2={W - right} y1={Y(t)} y2={Y(t)} className="grid" />
            <text x={left - 6} y={Y(t) + 4} textAnchor="end" className="tick">
              {t}
            </text>
          </g>
        ))}
        {categories.map((c, i) => (
          <g key={c}>
            {series.map((s, j) => {
              const v = s.values[i];
              if (v === undefined || !Number.isFinite(v)) return null;
              const base = Y(Math.max(y0, Math.min(0, y1)));
              const end = Y(v);
              return <rect key={s.name} data-series={s.name} x={left + i * bw + bw * 0.1 + j * inner} y={Math.min(end, base)} width={Math.max(1, inner - 1)} height={Math.abs(base - end)} fill={seriesStyle(j).stroke} />;
            })}
            <text x={left + i * bw + bw / 2} y={H - bottom + 16} textAnchor="middle" className="tick">
              {c}
            </text>
          </g>
        ))}
        <text x={(left + W - right) / 2} y={H - 6} textAnchor="middle" className="axis-label">
          {props.xLabel}
        </text>
        <text transform={`translate(13 ${(top + H - bottom) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">
          {props.yLabel}
        </text>
      </svg>
      <figcaption>
        {series.length > 1 && (
          <ul className="legend">
            {series.map((s, j) => (
              <li key={s.name}>
                <span className="swatch" style={{ background: seriesStyle(j).stroke }} aria-hidden="true" /> {s.name}
              </li>
            ))}
          </ul>
        )}
        <SeriesTable
          title={props.title}
          xLabel={props.xLabel}
          names={series.map((s) => s.name)}
          rows={categories.map((c, i) => ({ x: c, cells: series.map((s) => (s.values[i] === undefined ? "" : fmt(s.values[i]!, digits))) }))}
        />
      </figcaption>
    </figure>
  );
}
