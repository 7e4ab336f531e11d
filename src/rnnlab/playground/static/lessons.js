// The lessons: "try this" presets that set a block's controls (and start it), and the
// page texts in English or French, switched by the header's control and remembered in
// localStorage. The texts themselves are in texts.js.
"use strict";

// container id: [[text key, {control id: value}, button to press after]]
const RNN = { "rnn-hidden": 16, "rnn-layers": 1, "rnn-optimizer": "adam", "rnn-lr": 0.01, "rnn-clip": 0, "rnn-forever": false };
const PRESETS = {
  "rnn-presets": [
    ["p-vanish-elman", { ...RNN, "rnn-task": "adding", "rnn-T": 100, "rnn-cell": "elman", "rnn-truncate": 0, "rnn-steps": 500 }, "rnn-train"],
    ["p-vanish-lstm", { ...RNN, "rnn-task": "adding", "rnn-T": 100, "rnn-cell": "lstm", "rnn-truncate": 0, "rnn-steps": 500 }, "rnn-train"],
    ["p-trunc-5", { ...RNN, "rnn-task": "recall", "rnn-lag": 20, "rnn-cell": "lstm", "rnn-truncate": 5, "rnn-steps": 1000 }, "rnn-train"],
    ["p-trunc-full", { ...RNN, "rnn-task": "recall", "rnn-lag": 20, "rnn-cell": "lstm", "rnn-truncate": 0, "rnn-steps": 1000 }, "rnn-train"],
    ["p-diverge", { ...RNN, "rnn-task": "sine", "rnn-T": 20, "rnn-cell": "elman", "rnn-truncate": 0, "rnn-optimizer": "sgd", "rnn-lr": 10, "rnn-steps": 300 }, "rnn-train"],
  ],
  "mlp-presets": [
    ["p-xor-2", { "mlp-dataset": "xor", "mlp-layers": "2", "mlp-activation": "tanh", "mlp-optimizer": "momentum", "mlp-lr": 0.1, "mlp-steps": 500, "mlp-forever": false }, "mlp-train"],
    ["p-spirals", { "mlp-dataset": "spirals", "mlp-layers": "16,16,16", "mlp-activation": "tanh", "mlp-optimizer": "adam", "mlp-lr": 0.03, "mlp-steps": 1500, "mlp-forever": false }, "mlp-train"],
    ["p-mlp-diverge", { "mlp-dataset": "xor", "mlp-layers": "64,64,64", "mlp-activation": "relu", "mlp-optimizer": "momentum", "mlp-lr": 10, "mlp-steps": 300, "mlp-forever": false }, "mlp-train"],
  ],
  "mom-presets": [
    ["p-mom-gd", { "mom-kappa": 100, "mom-alpha": 0.015, "mom-beta": 0 }, null],
    ["p-mom-opt", { "mom-kappa": 100 }, "mom-optimal"],
  ],
  "lif-presets": [["p-lif-strong", { "lif-current": 4, "lif-tau": 5 }, null]],
  "esn-presets": [
    ["p-esn-short", { "esn-radius": 0.5 }, null], ["p-esn-chaos", { "esn-radius": 1.8 }, null],
    ["p-esn-overfit", { "esn-ridge": -12 }, null],
  ],
  "rate-presets": [["p-bin-small", { "rate-bin": 5 }, null], ["p-bin-opt", {}, "rate-optimal"]],
};

// Set the controls as a student would (the pages hear the same input and change events).
function applyPreset(settings, press) {
  for (const [id, value] of Object.entries(settings)) {
    const el = $(id);
    if (el.type === "checkbox") el.checked = value; else el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }
  if (press) $(press).click();
}

function setLang(lang) {
  if (!TEXTS[lang]) lang = "en";
  try { localStorage.setItem("rnnlab-lang", lang); } catch (err) { /* storage off: not remembered */ }
  LANG = lang;
  document.documentElement.lang = lang;
  $("lang").value = lang;
  for (const el of document.querySelectorAll("[data-t]")) {
    el.textContent = TEXTS[lang][el.dataset.t] || TEXTS.en[el.dataset.t] || el.dataset.t;
  }
  for (const el of document.querySelectorAll("[data-tt]")) el.title = tr(el.dataset.tt);
  for (const [key, text] of Object.entries(TEXTS[lang])) { // each control's line, on its label
    const el = key.startsWith("t-") ? $(key.slice(2)) : null;
    const label = el && el.closest("label");
    if (!label) continue;
    label.title = text; label.dataset.tip = key;
    // and visible under the control, not only as a tooltip
    let hint = label.querySelector(".hint");
    if (!hint) { hint = document.createElement("small"); hint.className = "hint"; label.append(hint); }
    hint.textContent = text;
  }
  // what JS wrote (status lines, plot titles): each page writes it again in this language
  for (const page of [...Object.values(PAGES), Limits]) if (page.relang) page.relang();
}

function initLessons() {
  for (const [box, presets] of Object.entries(PRESETS)) {
    const el = $(box);
    if (!el) continue;
    el.innerHTML = '<span data-t="try"></span> ' + presets.map(([key]) => `<button id="preset-${key}" data-t="${key}"></button>`).join(" ");
    for (const [key, settings, press] of presets) $(`preset-${key}`).onclick = () => applyPreset(settings, press);
  }
  $("lang").onchange = () => setLang($("lang").value);
  let saved = null;
  try { saved = localStorage.getItem("rnnlab-lang"); } catch (err) { /* storage off */ }
  setLang(saved || (navigator.language || "en").slice(0, 2));
}
