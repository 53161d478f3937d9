// Charts with lightweight-charts: a sparkline per stock card, the stock page's candles, and
// the portfolio's equity over time.
// Times are UTC seconds; labels are formatted in the market's time zone.
import { useEffect, useRef } from 'preact/hooks';
import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from 'lightweight-charts';
import { axisTime, chartTime } from '../lib/format';

export function Sparkline(props: { points: number[]; up: boolean; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<{ chart: IChartApi; series: ISeriesApi<'Area'> } | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const c = createChart(el.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: 'transparent' }, attributionLogo: false, textColor: '#6b7280' },
      grid: { vertLines: { visible: false }, horzLines: { visible: false } },
      rightPriceScale: { visible: false },
      leftPriceScale: { visible: false },
      timeScale: { visible: false },
      crosshair: { vertLine: { visible: false }, horzLine: { visible: false } },
      handleScroll: false,
      handleScale: false,
    });
    const series = c.addSeries(AreaSeries, {
      lineWidth: 2,
      priceLineVisible: false,
      lastValueVisible: false,
      crosshairMarkerVisible: false,
    });
    chart.current = { chart: c, series };
    return () => {
      c.remove();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    const color = props.up ? '#059669' : '#dc2626';
    c.series.applyOptions({ lineColor: color, topColor: color + '40', bottomColor: color + '05' });
    c.series.setData(props.points.map((value, i) => ({ time: (i + 1) as UTCTimestamp, value })));
    c.chart.timeScale().fitContent();
  }, [props.points.join(','), props.up]);

  return <div class="sparkline" ref={el} role="img" aria-label={props.label} />;
}

export type Bar = { time: UTCTimestamp; open: number; high: number; low: number; close: number };

/** Candles: `bars` replaces the data; `live` (a newer or the last bar) is applied in place. */
export function CandleChart(props: { bars: Bar[]; live: Bar | null; daily: boolean; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const api = useRef<{ chart: IChartApi; series: ISeriesApi<'Candlestick'> } | null>(null);
  const last = useRef<number>(0);

  useEffect(() => {
    if (!el.current) return;
    const c = createChart(el.current, {
      autoSize: true,
      // The logo would inject an inline <style> (blocked by the CSP): the attribution the
      // licence asks for is the link under the chart instead.
      layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#374151', attributionLogo: false },
      grid: { vertLines: { color: '#f3f4f6' }, horzLines: { color: '#f3f4f6' } },
      localization: { timeFormatter: (t: number) => chartTime(t) },
      timeScale: {
        timeVisible: true,
        secondsVisible: false,
        // TickMarkType: 0 year, 1 month, 2 day of month, 3 time, 4 time with seconds.
        tickMarkFormatter: (t: number, type: number) => axisTime(t, props.daily || type < 3),
      },
    });
    const series = c.addSeries(CandlestickSeries, {
      upColor: '#059669',
      downColor: '#dc2626',
      borderVisible: false,
      wickUpColor: '#059669',
      wickDownColor: '#dc2626',
    });
    api.current = { chart: c, series };
    return () => {
      c.remove();
      api.current = null;
    };
  }, [props.daily]);

  useEffect(() => {
    const a = api.current;
    if (!a) return;
    a.series.setData(props.bars);
    last.current = props.bars.length ? props.bars[props.bars.length - 1].time : 0;
    a.chart.timeScale().fitContent();
  }, [props.bars, props.daily]);

  useEffect(() => {
    const a = api.current;
    const bar = props.live;
    if (!a || !bar || bar.time < last.current) return;
    a.series.update(bar);
    last.current = bar.time;
  }, [props.live]);

  return (
    <>
      <div class="candles" ref={el} role="img" aria-label={props.label} />
      <p class="muted small attribution">
        Charts: <a href="https://www.tradingview.com/" rel="noreferrer">TradingView Lightweight Charts™</a>
      </p>
    </>
  );
}

export type EquityPoint = { time: UTCTimestamp; value: number };

/** Equity over time; `points` (ascending, at most one a second) replaces the data. */
export function EquityChart(props: { points: EquityPoint[]; up: boolean; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const api = useRef<{ chart: IChartApi; series: ISeriesApi<'Area'> } | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = createChart(el.current, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: '#ffffff' }, textColor: '#374151', attributionLogo: false },
      grid: { vertLines: { color: '#f3f4f6' }, horzLines: { color: '#f3f4f6' } },
      localization: { timeFormatter: (t: number) => chartTime(t) },
      timeScale: {
        timeVisible: true,
        secondsVisible: false,
        tickMarkFormatter: (t: number, type: number) => axisTime(t, type < 3),
      },
    });
    const series = c.addSeries(AreaSeries, { lineWidth: 2, priceLineVisible: false });
    api.current = { chart: c, series };
    return () => {
      c.remove();
      api.current = null;
    };
  }, []);

  useEffect(() => {
    const a = api.current;
    if (!a) return;
    const color = props.up ? '#059669' : '#dc2626';
    a.series.applyOptions({ lineColor: color, topColor: color + '40', bottomColor: color + '05' });
  }, [props.up]);

  useEffect(() => {
    const a = api.current;
    if (!a) return;
    a.series.setData(props.points);
    a.chart.timeScale().fitContent();
  }, [props.points]);

  return (
    <>
      <div class="equity" ref={el} role="img" aria-label={props.label} data-points={props.points.length} />
      <p class="muted small attribution">
        Charts: <a href="https://www.tradingview.com/" rel="noreferrer">TradingView Lightweight Charts™</a>
      </p>
    </>
  );
}
