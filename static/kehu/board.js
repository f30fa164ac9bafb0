// Dragging a deal card to another stage column of the board (sales/board.html).
(function () {
  const board = document.getElementById("board");
  if (board.dataset.mayMove !== "1") return;
  let dragged = null;
  board.addEventListener("dragstart", (e) => {
    dragged = e.target.closest(".board-card");
    if (dragged) e.dataTransfer.setData("text/plain", dragged.id);
  });
  board.addEventListener("dragover", (e) => { if (e.target.closest(".board-column")) e.preventDefault(); });
  let pending = null;  // the card in flight and where it came from, to put it back if the move fails
  board.addEventListener("drop", (e) => {
    const column = e.target.closest(".board-column");
    if (!column || !dragged) return;
    e.preventDefault();
    const card = dragged;
    dragged = null;
    if (card.closest(".board-column") === column) return;
    pending = { card: card, parent: card.parentNode, next: card.nextSibling };
    if (column.dataset.kind === "open") column.querySelector(".board-drop").prepend(card);
    // The answer swaps in both column headers (count and sum) and the card with its new version.
    htmx.ajax("POST", card.dataset.moveUrl, {
      values: { stage: column.dataset.stage, version: card.dataset.version },
      swap: "none",
    }).then(() => { pending = null; });
  });
  document.body.addEventListener("htmx:responseError", (e) => {
    if (pending) {
      pending.parent.insertBefore(pending.card, pending.next);
      pending = null;
    }
    const box = document.getElementById("board-error");
    box.textContent = e.detail.xhr.responseText || box.dataset.fallback;
    box.classList.remove("d-none");
  });
})();
