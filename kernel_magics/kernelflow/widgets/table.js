// The runs table's front end (an anywidget): the table HTML comes from the kernel;
// row checkboxes select runs, synced back to the kernel as the `selected` list.
function render({ model, el }) {
  function sync() {
    const sel = new Set(model.get("selected"));
    el.querySelectorAll("input.kf-pick").forEach((cb) => { cb.checked = sel.has(cb.dataset.run); });
    const all = el.querySelector("input.kf-pick-all");
    const boxes = el.querySelectorAll("input.kf-pick");
    if (all) all.checked = boxes.length > 0 && [...boxes].every((cb) => cb.checked);
  }
  function save(ids) { model.set("selected", ids); model.save_changes(); }
  function draw() {
    el.innerHTML = model.get("html");
    el.style.overflowX = "auto";
    el.querySelectorAll("input.kf-pick").forEach((cb) => {
      cb.addEventListener("change", () => {
        const now = model.get("selected").filter((id) => id !== cb.dataset.run);
        if (cb.checked) now.push(cb.dataset.run);
        save(now);
      });
    });
    const all = el.querySelector("input.kf-pick-all");
    if (all) all.addEventListener("change", () => {
      save(all.checked ? [...el.querySelectorAll("input.kf-pick")].map((cb) => cb.dataset.run) : []);
    });
    sync();
  }
  model.on("change:html", draw);
  model.on("change:selected", sync);
  draw();
}
export default { render };
