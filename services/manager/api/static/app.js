// The operator page: state from the REST API (GET /bots, /positions, /orders, /fills, /risk), kept current
// over /ws. The feed's messages come in stream order; after a drop the page reconnects with ?since=<last
// seq> and the server replays what it missed. No build step, no external resources. format.js (how values
// are written) and charts.js (the PnL and price charts) load before it.
"use strict";

const FILLS_SHOWN = 50;
const FILLS_KEPT = 1000; // newest fills held (the charts draw them); loaded over REST in pages of 500
const FILLS_PAGE = 500;
const ORDERS_SHOWN = 100;
const EVENTS_SHOWN = 200; // as many as GET /risk returns at most (RecentBreakerEvents keeps 200)
const POSITIONS_REFRESH_MS = [300, 2000];
const TOKEN_KEY = "gordon.operatorToken";
const ACTOR_KEY = "gordon.operatorName";
const RELOAD = new Set([4400, 4410]); // the feed cannot resume from our seq: reload state, go live again

const state = {
  lastSeq: null,
  orders: new Map(), // orderId -> order (REST shape)
  fills: new Map(), // fillId -> fill (GET /fills shape; a live one until REST has it, `live` set)
  events: [],
  latch: null,
  retryMs: 500,
  positionsTimers: [],
  bots: new Map(), // botId -> bot (GET /bots: its name from its configuration, run, lease, last event)
  botOrder: [], // bot ids in the order their colours are given
};

const $ = (id) => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "—" : String(text);
  if (className) td.className = className;
  return td;
}

function row(cells, fresh) {
  const tr = document.createElement("tr");
  for (const td of cells) tr.append(td);
  if (fresh) tr.className = "fresh";
  return tr;
}

function time(ms) {
  return utcTime(ms);
}

function botName(botId) {
  const bot = state.bots.get(botId);
  return bot ? bot.name : idTail(botId);
}

function botCell(botId) {
  const td = idCell(botId, botName(botId));
  td.style.setProperty("--swatch", botColor(botId));
  td.classList.add("bot");
  return td;
}

function notice(text) {
  const el = $("notice");
  el.hidden = !text;
  el.textContent = text || "";
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

// --- rendering ---------------------------------------------------------------------------------

function renderLatch() {
  const latch = state.latch;
  const el = $("latch");
  if (!latch) return;
  el.dataset.halted = String(latch.halted);
  el.textContent = latch.halted ? `HALTED (${latch.breaker || "?"})` : "running";
  const details = $("latch-details");
  details.replaceChildren();
  const items = [
    ["reason", latch.reason || "—"],
    ["version", latch.version],
    ["changed", time(latch.changedMs)],
    ["trips since resume", latch.trips ?? "—"],
  ];
  for (const [name, value] of items) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    details.append(dt, dd);
  }
  $("resume").disabled = !latch.halted;
  $("pause").disabled = latch.halted; // already halted: resume, or flatten what is still open
  $("flatten").disabled = false;
}

function renderEvents() {
  const body = $("events").tBodies[0];
  body.replaceChildren(
    ...state.events.map((e) =>
      row([cell(time(e.tsMs)), cell(e.version), cell(e.breaker), cell(e.action), cell(e.message)], e.fresh),
    ),
  );
}

function sign(value) {
  const number = Number(value);
  return number > 0 ? "gain" : number < 0 ? "loss" : "";
}

function renderPositions(items) {
  const body = $("positions").tBodies[0];
  body.replaceChildren(
    ...items.map((p) =>
      row([
        botCell(p.botId), cell(`${p.symbol} ${p.market}`), numberCell(p.qty, "qty"),
        numberCell(p.avgEntryPrice, "price"), numberCell(p.markPrice, "price"),
        numberCell(p.unrealizedPnl, "money", sign(p.unrealizedPnl)), numberCell(p.realizedPnl, "money", sign(p.realizedPnl)),
        numberCell(p.fees, "money"), cell(time(p.updatedMs)),
      ]),
    ),
  );
}

function newestFills() {
  // Fill ids are UUIDv7: their text sorts by time.
  return [...state.fills.values()].sort((a, b) => (a.fillId < b.fillId ? 1 : -1));
}

function renderFills() {
  const fills = newestFills();
  if (fills.length > FILLS_KEPT) state.fills = new Map(fills.slice(0, FILLS_KEPT).map((f) => [f.fillId, f]));
  const body = $("fills").tBodies[0];
  body.replaceChildren(
    ...fills.slice(0, FILLS_SHOWN).map((f) => {
      const tr = row(
        [
          cell(time(f.tsMs)), idCell(f.fillId), botCell(f.botId), cell(f.symbol), cell(f.side, f.side),
          numberCell(f.qty, "qty"), numberCell(f.price, "price"), numberCell(f.fee, "money"), cell(f.feeAsset),
          numberCell(f.realizedPnl, "money", sign(f.realizedPnl)),
        ],
        f.fresh,
      );
      tr.dataset.fillId = f.fillId;
      if (f.seq !== undefined) tr.dataset.seq = String(f.seq);
      return tr;
    }),
  );
}

function renderOrders() {
  const orders = [...state.orders.values()].sort((a, b) => b.updatedMs - a.updatedMs).slice(0, ORDERS_SHOWN);
  // Keep only what is shown: a page left open all day would otherwise hold (and sort) every order.
  if (state.orders.size > ORDERS_SHOWN) state.orders = new Map(orders.map((o) => [o.orderId, o]));
  const body = $("orders").tBodies[0];
  body.replaceChildren(
    ...orders.map((o) => {
      const tr = row(
        [
          idCell(o.orderId), botCell(o.botId), cell(o.symbol), cell(o.side, o.side), cell(o.orderType),
          numberCell(o.qty, "qty"), numberCell(o.filledQty, "qty"), cell(o.status), cell(time(o.updatedMs)),
        ],
        o.fresh,
      );
      tr.dataset.orderId = o.orderId;
      return tr;
    }),
  );
}

// --- REST state --------------------------------------------------------------------------------

async function loadBots() {
  const page = await getJson("/bots");
  state.bots = new Map(page.items.map((b) => [b.botId, b]));
  for (const bot of page.items) if (!state.botOrder.includes(bot.botId)) state.botOrder.push(bot.botId);
  renderBots();
}

function renderBots() {
  // One row per configured bot: its run and the process holding its lease (none: no process runs it).
  const body = $("bots").tBodies[0];
  body.replaceChildren(
    ...[...state.bots.values()].map((b) => {
      const event = b.lastEvent;
      const lease = cell(b.lease ? b.lease.holder : null, "lease");
      const last = cell(event ? `${event.kind} ${time(event.tsMs)}` : null, "last-event");
      if (event) last.title = event.detail; // why: the holder that started it, the breaker that paused it
      const tr = row([
        botCell(b.botId),
        cell(b.desiredState),
        idCell(b.run ? b.run.runId : null),
        cell(b.run ? time(b.run.startedMs) : null),
        lease,
        cell(b.lease ? time(b.lease.renewedMs) : null),
        last,
      ]);
      tr.dataset.leased = String(Boolean(b.lease));
      tr.dataset.lastEvent = event ? event.kind : "";
      return tr;
    }),
  );
}

async function loadPositions() {
  renderPositions((await getJson("/positions")).items);
}

async function loadOrders() {
  const page = await getJson(`/orders?limit=${ORDERS_SHOWN}`);
  for (const order of page.items) {
    const known = state.orders.get(order.orderId);
    if (!known || known.version < order.version) state.orders.set(order.orderId, order);
  }
  renderOrders();
}

function mergeFills(items) {
  // A fill is one event: the REST row (with the position it left) replaces the live copy of it.
  for (const fill of items) {
    const known = state.fills.get(fill.fillId);
    state.fills.set(fill.fillId, known ? { ...fill, seq: known.seq, fresh: known.fresh } : fill);
  }
}

async function loadFills(pages) {
  let cursor = null;
  for (let i = 0; i < pages; i += 1) {
    const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await getJson(`/fills?limit=${FILLS_PAGE}${query}`);
    mergeFills(page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  renderFills();
  drawCharts();
}

async function loadRisk() {
  const risk = await getJson("/risk");
  if (!state.latch || state.latch.version <= risk.latch.version) state.latch = risk.latch;
  state.events = risk.recentEvents;
  renderLatch();
  renderEvents();
}

async function loadAll() {
  try {
    await loadBots(); // names first: every table shows them
    await Promise.all([loadPositions(), loadOrders(), loadFills(FILLS_KEPT / FILLS_PAGE), loadRisk()]);
    notice("");
  } catch (error) {
    notice(`could not load the state: ${error.message}`);
  }
}

function refreshPositionsSoon() {
  // Positions (and each fill's position after it) are folded from fills by projections that lag the feed
  // a little: ask shortly after the last fill, and once more later in case they had not caught up yet.
  for (const timer of state.positionsTimers) clearTimeout(timer);
  state.positionsTimers = POSITIONS_REFRESH_MS.map((ms) =>
    setTimeout(() => Promise.all([loadPositions(), loadFills(1)]).catch((e) => notice(e.message)), ms),
  );
}

// --- the live feed -----------------------------------------------------------------------------

function applyFill(seq, data) {
  const known = state.fills.get(data.fillId);
  if (known) {
    known.seq = seq; // already loaded over REST (or a replay after a reconnect): the same fill, once
  } else {
    state.fills.set(data.fillId, { ...data, seq, live: true, fresh: true });
  }
  renderFills();
  drawCharts();
  refreshPositionsSoon();
}

function applyOrder(data) {
  const known = state.orders.get(data.orderId);
  if (known && known.version >= data.version) return;
  state.orders.set(data.orderId, {
    orderId: data.orderId, botId: data.botId, intentId: data.intentId, symbol: data.symbol,
    market: data.market, side: data.side, orderType: data.orderType, qty: data.qty,
    limitPrice: data.limitPrice, status: data.kind, filledQty: data.filledQty, reason: data.reason,
    version: data.version, createdMs: known ? known.createdMs : data.tsMs, updatedMs: data.tsMs, fresh: true,
  });
  renderOrders();
}

function applyBreaker(data) {
  if (!state.latch || state.latch.version < data.version) {
    const trips = state.latch && state.latch.trips !== undefined ? state.latch.trips : 0;
    state.latch = {
      latchId: data.latchId, halted: data.action === "trip", breaker: data.breaker, reason: data.message,
      version: data.version, changedMs: data.tsMs, trips: data.action === "trip" ? trips + 1 : 0,
    };
    renderLatch();
  }
  state.events.unshift({ ...data, fresh: true });
  state.events.length = Math.min(state.events.length, EVENTS_SHOWN);
  renderEvents();
}

function apply(message) {
  state.lastSeq = message.seq;
  $("last-seq").textContent = String(message.seq);
  if (message.kind === "fill") applyFill(message.seq, message.data);
  else if (message.kind === "order") applyOrder(message.data);
  else if (message.kind === "breaker") applyBreaker(message.data);
}

function setConnection(stateName, text) {
  const el = $("connection");
  el.dataset.state = stateName;
  el.textContent = text;
}

function connect() {
  const url = new URL("/ws", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (state.lastSeq !== null) url.searchParams.set("since", String(state.lastSeq));
  const ws = new WebSocket(url);
  ws.onopen = () => {
    state.retryMs = 500;
    setConnection("live", "live");
  };
  ws.onmessage = (event) => apply(JSON.parse(event.data));
  ws.onclose = (event) => {
    if (RELOAD.has(event.code)) {
      state.lastSeq = null; // what we missed cannot be replayed: start over from the REST state
      loadAll();
    }
    const why = event.reason ? `: ${event.reason}` : "";
    setConnection("reconnecting", `reconnecting (${event.code}${why})`);
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 10000);
  };
}

// --- the operator's requests: pause, flatten, resume ------------------------------------------------

const ACTIONS = ["pause", "flatten", "resume"];

async function request(action) {
  const form = $("operator-form");
  if (!form.reportValidity()) return; // the token and a reason are required
  const token = $("token").value.trim();
  const reason = $("reason").value.trim();
  const actor = $("actor").value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(ACTOR_KEY, actor);
  const result = $("request-result");
  result.textContent = `sending ${action}…`;
  try {
    const response = await fetch(`/risk/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(actor ? { reason, actor } : { reason }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 202) {
      result.textContent = `${action} accepted (request ${body.requestId}); the latch changes when risk carries it out`;
    } else if (response.status === 401) {
      result.textContent = "the token was refused";
    } else {
      const why = typeof body.detail === "string" ? body.detail : body.message || "";
      result.textContent = `${action} refused (HTTP ${response.status}): ${why}`;
    }
  } catch (error) {
    result.textContent = `could not send ${action}: ${error.message}`;
  }
}

// --- readiness ---------------------------------------------------------------------------------

const READINESS_EVERY_MS = 5000;

function tile(name, ready, detail) {
  const el = document.createElement("div");
  el.className = "tile";
  el.dataset.service = name;
  el.dataset.ready = String(ready);
  const title = document.createElement("strong");
  title.textContent = name;
  const note = document.createElement("span");
  note.textContent = ready ? "ready" : `not ready: ${detail}`;
  el.append(title, note);
  el.title = detail;
  return el;
}

async function loadReadiness() {
  // /readiness is /healthz's report answered 200 (a browser logs every 503 as an error).
  const tiles = [];
  try {
    const response = await fetch("/readiness", { headers: { Accept: "application/json" } });
    const health = await response.json();
    tiles.push(tile("manager", health.status === "ok", (health.failed || []).join(", ")));
    for (const [name, result] of Object.entries(health.services || {})) {
      tiles.push(tile(name, result.ok, result.detail));
    }
  } catch (error) {
    tiles.push(tile("manager", false, `no answer: ${error.message}`));
  }
  const panel = $("readiness");
  panel.replaceChildren(...tiles);
  panel.dataset.loaded = "true";
}

function start() {
  $("token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  $("actor").value = sessionStorage.getItem(ACTOR_KEY) || "";
  $("operator-form").addEventListener("submit", (event) => event.preventDefault());
  for (const action of ACTIONS) $(action).addEventListener("click", () => request(action));
  connect();
  loadAll().then(startPricePolling);
  loadReadiness();
  setInterval(loadReadiness, READINESS_EVERY_MS);
  setInterval(() => loadBots().catch((e) => notice(e.message)), READINESS_EVERY_MS); // runs and leases move
}

document.addEventListener("DOMContentLoaded", start);
