"""verl custom reward function backed by rlxf's reward service.

In verl's config:
    custom_reward_function:
      path: examples/verl_reward.py
      name: compute_score
and set RLXF_REWARD_URL, RLXF_API_KEY (and RLXF_REWARD_SPEC, default "math") in the
workers' environment. See rlxf_reward_client.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlxf_reward_client import sample, score_samples  # noqa: E402


def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    """verl's signature: the reward of one solution, a float in [0, 1].

    extra_info may carry "reward_spec" (overrides RLXF_REWARD_SPEC for this sample) and "prompt".
    """
    extra_info = extra_info or {}
    spec = extra_info.get("reward_spec") if isinstance(extra_info, dict) else None
    prompt = extra_info.get("prompt") if isinstance(extra_info, dict) else None
    if not isinstance(prompt, str):
        prompt = None
    [result] = score_samples([sample(solution_str, ground_truth, prompt)], spec)
    return float(result["score"])


if __name__ == "__main__":
    # python3 examples/verl_reward.py "The answer is \\boxed{4}" 4
    print(compute_score("cli", sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
