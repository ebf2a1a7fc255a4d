// How the operator page writes values: one number format per column, UTC times, ids by their end.
// Loaded before charts.js and app.js; its functions are shared through the page's global scope.
"use strict";

const DECIMALS = { qty: 6, price: 2, money: 4 };
// Each numeric column is one of these: quantities (6 places), prices (2) and quote-asset amounts (4).
const ID_TAIL = 6; // a UUIDv7 starts with its timestamp: its last characters tell two ids apart

const numberFormats = Object.fromEntries(
  Object.entries(DECIMALS).map(([kind, places]) => [
    kind,
    new Intl.NumberFormat("en-US", { minimumFractionDigits: places, maximumFractionDigits: places }),
  ]),
);

function formatNumber(value, kind) {
  if (value === null || value === undefined || value === "") return "—";
  const number = Number(value);
  return Number.isFinite(number) ? numberFormats[kind].format(number) : String(value);
}

function utcTime(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "—";
}

function idTail(id) {
  return id ? `…${String(id).slice(-ID_TAIL)}` : "—";
}

async function copyText(text) {
  // 127.0.0.1 is a secure context, so the Clipboard API is there; elsewhere, select the text instead.
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return true;
  }
  return false;
}

function idCell(id, label) {
  // The short form shows; the full id is on hover (title) and copied on click.
  const td = document.createElement("td");
  td.textContent = label || idTail(id);
  td.className = "id";
  if (id) {
    td.title = `${id} (click to copy)`;
    td.dataset.id = id;
    td.addEventListener("click", () => {
      copyText(String(id)).then((copied) => {
        if (!copied) window.getSelection().selectAllChildren(td);
        td.classList.add("copied");
        setTimeout(() => td.classList.remove("copied"), 800);
      });
    });
  }
  return td;
}

function numberCell(value, kind, className) {
  const td = document.createElement("td");
  td.textContent = formatNumber(value, kind);
  td.className = className ? `num ${className}` : "num";
  if (value !== null && value !== undefined) td.title = String(value); // the exact decimal
  return td;
}
