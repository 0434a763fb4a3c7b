// The console's one script: a "Copy" button beside values marked data-copy (a connect link, a new API key).
// Everything else on the console works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      const status = document.getElementById(button.dataset.copy + "-copied");
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        if (status) status.textContent = "Copied.";
      } catch (error) {
        if (status) status.textContent = "Copying is not allowed here: select the text and copy it.";
      }
    });
  }
});
