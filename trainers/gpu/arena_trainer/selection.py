"""Which evaluation is best, and early stopping on the merged model, as trainers/cpu/selection.ts."""


def improves(metric: str, value: float, best) -> bool:
    """A lower loss, a higher accuracy; anything beats no value yet."""
    if best is None:
        return True
    return value < best if metric == "valid_loss" else value > best


def record_evaluation(es: dict, metric: str, metrics: dict, patience: int):
    """One evaluation of the merged model (the round's merge, or the single shard's epoch): `patience`
    evaluations without a gain in `metric` stop training. Returns the log line of a stop, else None."""
    value = metrics[metric]
    if improves(metric, value, es["best"]):
        es["best"], es["bad_epochs"] = value, 0
        return None
    es["bad_epochs"] += 1
    if patience == 0 or es["bad_epochs"] < patience:
        return None
    es["stopped"] = True
    return f"early stopping: no {metric} gain for {es['bad_epochs']} evaluations"


def valid_metrics(entry: dict) -> dict:
    """The validation of a checkpoint as the `done` event reports it (docs/trainer-protocol.md)."""
    return {k: entry[k] for k in ("step", "epoch", "valid_loss", "valid_accuracy")}
