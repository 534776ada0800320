"""A TRL GRPOTrainer reward function backed by rlxf's reward service.

    from trl import GRPOTrainer
    from trl_grpo_reward import rlxf_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[rlxf_reward], train_dataset=ds, ...)

The dataset's ground truth column (the first of RLXF_REFERENCE_COLUMN, "ground_truth",
"answer", "solution", "label" that is present) is sent as each sample's reference. Works with
standard (string) and conversational (list of messages) prompts and completions. Set
RLXF_REWARD_URL, RLXF_API_KEY and RLXF_REWARD_SPEC as for rlxf_reward_client.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlxf_reward_client import sample, score_samples  # noqa: E402

_COLUMNS = ("ground_truth", "answer", "solution", "label")


def _text(x):
    """A string, or the last assistant message's content of a conversation."""
    if isinstance(x, str):
        return x
    if isinstance(x, list):
        msgs = [m for m in x if isinstance(m, dict)]
        assistant = [m for m in msgs if m.get("role") == "assistant"]
        pick = assistant[-1] if assistant else (msgs[-1] if msgs else {})
        return str(pick.get("content", ""))
    return str(x)


def _prompt(x):
    if isinstance(x, list):
        return "\n".join(str(m.get("content", "")) for m in x if isinstance(m, dict))
    return x if isinstance(x, str) else None


def rlxf_reward(prompts, completions, **kwargs):
    """One float per completion (TRL's reward function signature)."""
    column = os.environ.get("RLXF_REFERENCE_COLUMN")
    names = (column,) if column else _COLUMNS
    refs = next((kwargs[n] for n in names if kwargs.get(n) is not None), None)
    samples = []
    for i, completion in enumerate(completions):
        prompt = _prompt(prompts[i]) if prompts is not None and i < len(prompts) else None
        ref = refs[i] if refs is not None and i < len(refs) else None
        samples.append(sample(_text(completion), ref, prompt))
    if not samples:
        return []
    return [float(r["score"]) for r in score_samples(samples)]
