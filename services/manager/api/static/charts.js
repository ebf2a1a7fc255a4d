// The operator page's charts, drawn with the vendored TradingView Lightweight Charts (window.LightweightCharts):
// realized PnL over time per bot (from each fill's position after it, GET /fills and the live feed) and
// one price chart per traded symbol (1m candles from GET /klines, polled since the feed carries no
// klines) with every bot's fills marked at the candle that priced them. Times on both axes are UTC.
// Each chart's container says what it holds in data-* attributes (points, candles, markers).
"use strict";

const CHART_HEIGHT = 260;
const CANDLES_LOADED = 300;
const KLINE_POLL_MS = 2000;
const BOT_COLORS = ["#4ea1ff", "#f0a030", "#b070f0", "#40c0a0", "#e06080", "#c0c040"];
const MINUTE_MS = 60000;

const charts = {
  pnl: null, // { chart, lines: Map botId -> series }
  prices: new Map(), // symbol -> { chart, candles, markers, lastOpenMs, market, el }
  pollTimer: null,
};

function chartOptions() {
  return {
    height: CHART_HEIGHT,
    autoSize: true,
    layout: {
      background: { color: "#182028" },
      textColor: "#dde3ea",
      // The library's logo injects an inline <style>, which the page's CSP refuses; the footer carries
      // the attribution and link instead.
      attributionLogo: false,
    },
    grid: { vertLines: { color: "#26313c" }, horzLines: { color: "#26313c" } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#34414e" },
    rightPriceScale: { borderColor: "#34414e" },
  };
}

function botColor(botId) {
  const index = state.botOrder.indexOf(botId);
  return BOT_COLORS[(index < 0 ? state.botOrder.length : index) % BOT_COLORS.length];
}

function seconds(ms) {
  return Math.floor(ms / 1000);
}

// --- realized PnL per bot ------------------------------------------------------------------------

function pnlCurves(fills) {
  // A bot's realized PnL is the sum over its symbols of each position's realized PnL after its latest
  // fill; one point per fill (the last of a second: the chart's times are whole seconds).
  const curves = new Map();
  const latest = new Map(); // botId -> Map symbol -> realized PnL
  const ordered = fills.filter((f) => f.realizedPnl !== undefined).sort((a, b) => a.tsMs - b.tsMs || a.version - b.version);
  for (const fill of ordered) {
    if (!latest.has(fill.botId)) latest.set(fill.botId, new Map());
    latest.get(fill.botId).set(fill.symbol, Number(fill.realizedPnl));
    let total = 0;
    for (const value of latest.get(fill.botId).values()) total += value;
    if (!curves.has(fill.botId)) curves.set(fill.botId, []);
    const points = curves.get(fill.botId);
    const time = seconds(fill.tsMs);
    if (points.length && points[points.length - 1].time === time) points[points.length - 1].value = total;
    else points.push({ time, value: total });
  }
  return curves;
}

function drawPnl(fills) {
  const el = $("pnl-chart");
  if (!charts.pnl) {
    const options = { ...chartOptions(), height: el.clientHeight || CHART_HEIGHT };
    charts.pnl = { chart: LightweightCharts.createChart(el, options), lines: new Map() };
  }
  const curves = pnlCurves(fills);
  let points = 0;
  for (const [botId, data] of curves) {
    let line = charts.pnl.lines.get(botId);
    if (!line) {
      line = charts.pnl.chart.addSeries(LightweightCharts.LineSeries, {
        color: botColor(botId),
        lineWidth: 2,
        title: botName(botId),
        priceFormat: { type: "price", precision: DECIMALS.money, minMove: 10 ** -DECIMALS.money },
      });
      charts.pnl.lines.set(botId, line);
    }
    line.setData(data);
    points += data.length;
  }
  el.dataset.points = String(points);
  el.dataset.bots = String(curves.size);
  renderLegend($("pnl-legend"), [...curves.keys()]);
}

function renderLegend(el, botIds) {
  el.replaceChildren(
    ...botIds.map((botId) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      item.style.setProperty("--swatch", botColor(botId));
      item.textContent = botName(botId);
      item.title = botId;
      return item;
    }),
  );
}

// --- prices with fills -------------------------------------------------------------------------

function priceChart(symbol, market) {
  let entry = charts.prices.get(symbol);
  if (entry) return entry;
  const box = document.createElement("figure");
  box.className = "price-chart";
  box.dataset.symbol = symbol;
  const caption = document.createElement("figcaption");
  caption.textContent = `${symbol} ${market} · 1m candles, UTC`;
  const el = document.createElement("div");
  el.className = "chart";
  el.dataset.symbol = symbol;
  el.dataset.candles = "0";
  el.dataset.markers = "0";
  box.append(caption, el);
  $("price-charts").append(box);
  const chart = LightweightCharts.createChart(el, chartOptions());
  const candles = chart.addSeries(LightweightCharts.CandlestickSeries, {
    upColor: "#3fb37f", downColor: "#e0564a", borderVisible: false,
    wickUpColor: "#3fb37f", wickDownColor: "#e0564a",
    priceFormat: { type: "price", precision: DECIMALS.price, minMove: 10 ** -DECIMALS.price },
  });
  const markers = LightweightCharts.createSeriesMarkers(candles, []);
  entry = { chart, candles, markers, market, el, firstOpenMs: null, lastOpenMs: null };
  charts.prices.set(symbol, entry);
  return entry;
}

function candle(k) {
  return { time: seconds(k.openTimeMs), open: k.open, high: k.high, low: k.low, close: k.close };
}

async function loadCandles(entry, symbol) {
  const after = entry.lastOpenMs === null ? "" : `&after=${entry.lastOpenMs}`;
  const limit = entry.lastOpenMs === null ? CANDLES_LOADED : 1000;
  const query = `symbol=${encodeURIComponent(symbol)}&market=${entry.market}&tf=1m&limit=${limit}${after}`;
  const page = await getJson(`/klines?${query}`);
  if (!page.items.length) return false;
  if (entry.lastOpenMs === null) {
    entry.candles.setData(page.items.map(candle));
    entry.firstOpenMs = page.items[0].openTimeMs;
  } else {
    for (const k of page.items) entry.candles.update(candle(k));
  }
  entry.lastOpenMs = page.items[page.items.length - 1].openTimeMs;
  entry.el.dataset.candles = String(Number(entry.el.dataset.candles) + page.items.length);
  entry.el.dataset.lastOpenMs = String(entry.lastOpenMs);
  return true;
}

function fillMarkers(entry, symbol, fills) {
  // At the candle whose close priced the fill (pricedAtMs), or the candle of its time when the venue
  // did not say; only fills within the candles drawn.
  const marks = [];
  for (const fill of fills) {
    if (fill.symbol !== symbol) continue;
    const at = fill.pricedAtMs ?? Math.floor(fill.tsMs / MINUTE_MS) * MINUTE_MS;
    if (entry.firstOpenMs === null || at < entry.firstOpenMs || at > entry.lastOpenMs) continue;
    const buy = fill.side === "buy";
    marks.push({
      time: seconds(at),
      position: buy ? "belowBar" : "aboveBar",
      shape: buy ? "arrowUp" : "arrowDown",
      color: botColor(fill.botId),
      text: buy ? "B" : "S",
      id: fill.fillId,
    });
  }
  marks.sort((a, b) => a.time - b.time);
  entry.markers.setMarkers(marks);
  entry.el.dataset.markers = String(marks.length);
}

function chartSymbols() {
  // Every bot's symbol, and any other symbol a position or a fill is in.
  const found = new Map();
  for (const bot of state.bots.values()) found.set(bot.symbol, bot.market);
  for (const fill of state.fills.values()) if (!found.has(fill.symbol)) found.set(fill.symbol, fill.market);
  return found;
}

async function refreshPrices() {
  const fills = [...state.fills.values()];
  for (const [symbol, market] of chartSymbols()) {
    const entry = priceChart(symbol, market);
    await loadCandles(entry, symbol);
    fillMarkers(entry, symbol, fills);
  }
}

function drawCharts() {
  // After the fills change: the PnL curves and the markers (the candles are polled on their own).
  if (typeof LightweightCharts === "undefined") return;
  const fills = [...state.fills.values()];
  drawPnl(fills);
  for (const [symbol, entry] of charts.prices) fillMarkers(entry, symbol, fills);
}

function startPricePolling() {
  if (typeof LightweightCharts === "undefined") {
    notice("the chart library did not load: no charts");
    return;
  }
  const poll = () =>
    refreshPrices()
      .catch((error) => notice(`could not load prices: ${error.message}`))
      .finally(() => {
        charts.pollTimer = setTimeout(poll, KLINE_POLL_MS);
      });
  poll();
}
