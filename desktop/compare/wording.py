"""The Compare page's results in the user's language: the paired tests' verdicts and the
recommendation, which the engine gives as data (engine.lab.report.recommendation_parts).
Their translations live in the page's context."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from ..common import training_estimate


translate = QCoreApplication.translate   # lupdate reads translate("ComparePage", "…") calls


def pct(x) -> str:
    return "–" if x is None or x != x else f"{x:.0%}"


def retraining(detail: dict | None, text: str | None) -> str:
    """The adapter's retraining estimate from a freshness round; `text` (English) only for a
    round recorded before the numbers were kept."""
    if detail and detail.get("no_job"):
        return translate("ComparePage", "no estimate, since the adapter was not trained in this data folder")
    if detail:
        return training_estimate(detail["steps"], detail["memory_bytes"], detail["device"], detail["seconds"])
    return text or translate("ComparePage", "see the training estimate")


def verdict(pair: dict) -> str:
    """The paired test's verdict: which arm is better, or that the test does not tell."""
    winner = pair.get("winner")
    if winner is None:
        return translate("ComparePage", "no clear difference")
    loser = pair["b"] if winner == pair["a"] else pair["a"]
    return translate("ComparePage", "{winner} better than {loser}").format(winner=winner, loser=loser)


def recommendation(summary: dict) -> str:
    """The best arm, the differences the paired test supports, freshness and the advice, in one line."""
    parts = summary.get("recommendation_parts")
    if not parts:
        return translate("ComparePage", "No answers yet.")
    line = translate("ComparePage", "{arm} answers best ({accuracy} of {n})").format(
        arm=parts["best"], accuracy=pct(parts["accuracy"]), n=parts["answered"])
    if parts["beaten"]:
        line += translate("ComparePage", "; clearly better than {arms}").format(arms=", ".join(parts["beaten"]))
    if parts["tied"]:
        line += translate("ComparePage", "; not clearly better than {arms} on this many questions").format(arms=", ".join(parts["tied"]))
    if parts["followed"]:
        line += translate("ComparePage", ". After a document changed, {arms} followed after re-indexing ({seconds:.1f} s); the adapter "
                    "did not (retraining: {retrain})").format(
            arms=", ".join(parts["followed"]), seconds=parts["reindex_s"],
            retrain=retraining(parts.get("retrain_detail"), parts["retrain"]))
    advice = {"prefer_rag": translate("ComparePage", "Prefer RAG when documents change often; fine-tune for style and format"),
              "rag_not_worse": translate("ComparePage", "RAG is not clearly worse and follows changed documents without retraining"),
              "adapter_pays": translate("ComparePage", "The adapter pays off here; retrain it when the facts change")}
    if parts["advice"] in advice:
        line += translate("ComparePage", ". {advice}").format(advice=advice[parts["advice"]])
    return line + translate("ComparePage", ".")
