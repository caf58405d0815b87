// Re-process: trigger the manual sync in re-map mode through Airflow's REST API, as the
// logged-in user (the session cookie goes along; Airflow checks the permission), then follow
// the run and reload the page when it is done.
(function () {
  "use strict";
  const dag = document.currentScript.dataset.dag;
  const api = `/api/v2/dags/${encodeURIComponent(dag)}`;
  const FINISHED = new Set(["success", "failed"]);

  async function call(path, options) {
    const response = await fetch(path, {
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      ...options,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || body);
      throw new Error(`${response.status}: ${detail}`);
    }
    return body;
  }

  async function follow(runId, output) {
    for (;;) {
      const run = await call(`${api}/dagRuns/${encodeURIComponent(runId)}`);
      output.textContent = `Run ${runId}: ${run.state}…`;
      if (FINISHED.has(run.state)) return run.state;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  async function reprocess(button) {
    const output = button.parentElement.querySelector("output");
    button.disabled = true;
    try {
      const dagInfo = await call(api);
      if (dagInfo.is_paused) {
        throw new Error(`${dag} is paused: unpause it in Airflow, then press Re-process again.`);
      }
      const conf = JSON.parse(button.dataset.conf);
      const run = await call(`${api}/dagRuns`, {
        method: "POST",
        body: JSON.stringify({ logical_date: null, conf, note: "Re-process from the ConnectWise console" }),
      });
      output.textContent = `Run ${run.dag_run_id} queued…`;
      const state = await follow(run.dag_run_id, output);
      if (state === "success") {
        output.textContent = "Done: reloading…";
        window.location.reload();
      } else {
        output.textContent = `Run ${run.dag_run_id} failed: see its task logs in Airflow.`;
        button.disabled = false;
      }
    } catch (error) {
      output.textContent = `Could not re-process: ${error.message}`;
      output.classList.add("error");
      button.disabled = false;
    }
  }

  for (const button of document.querySelectorAll("button.reprocess")) {
    button.addEventListener("click", () => reprocess(button));
  }
})();
