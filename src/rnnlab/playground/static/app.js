// The tabs: #neuron, #recurrent, #spikes, #text; each page starts its work when first shown.
"use strict";

const PAGES = { neuron: Neuron, recurrent: Recurrent, spikes: Spikes, reservoir: Reservoir, text: TextPage };

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
    note.textContent = ` (at most ${meta.limits.steps} steps or ${Math.round(meta.limits.time_box_s / 60)} min)`;
    $(id).parentElement.append(note);
  }
  window.addEventListener("hashchange", show);
  show();
  document.body.dataset.ready = "1"; // for the browser tests
})();
