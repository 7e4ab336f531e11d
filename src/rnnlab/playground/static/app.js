// The tabs: #neuron, #recurrent, #spikes, #text; each page starts its work when first shown.
"use strict";

const PAGES = { neuron: Neuron, recurrent: Recurrent, spikes: Spikes, reservoir: Reservoir, text: TextPage };

// "until stopped" says its limits, in the page's language
const Limits = {
  relang() {
    for (const note of document.querySelectorAll("[id$='-forever-limit']")) {
      note.textContent = tr("st-forever", { steps: note.dataset.steps, min: note.dataset.min });
    }
  },
};

function show() {
  const name = (location.hash || "#neuron").slice(1);
  const page = PAGES[name] ? name : "neuron";
  for (const p of Object.keys(PAGES)) {
    $(`page-${p}`).classList.toggle("active", p === page);
  }
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.page === page);
  PAGES[page].shown();
}

(async () => {
  const meta = await api("/api/meta");
  window.META = meta; // the tasks' controls, for the network's diagram
  for (const page of Object.values(PAGES)) page.init(meta);
  initLessons();
  // "until stopped" has limits: the server's step limit and its time box, said on the label.
  for (const id of ["rnn-forever", "mlp-forever"]) {
    const note = document.createElement("span");
    note.id = `${id}-limit`;
    note.dataset.steps = meta.limits.steps; note.dataset.min = Math.round(meta.limits.time_box_s / 60);
    $(id).parentElement.append(note);
  }
  Limits.relang();
  window.addEventListener("hashchange", show);
  show();
  document.body.dataset.ready = "1"; // for the browser tests
})();
