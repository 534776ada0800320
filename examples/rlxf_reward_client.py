"""Shared by the verl and TRL shims: one POST to rlxf's reward service (stdlib only).

Environment:
  RLXF_REWARD_URL   the service, e.g. http://127.0.0.1:8787 (the path /v1/reward is added
                    when the URL has none)
  RLXF_API_KEY      an rlxf key with role admin, ingest or read
  RLXF_REWARD_SPEC  a reward spec name ("math", "exact", ...) or JSON spec (default "math")
  RLXF_TIMEOUT      seconds per request (default 60)
"""
import json
import os
import urllib.error
import urllib.parse
import urllib.request


def _url():
    url = os.environ.get("RLXF_REWARD_URL", "http://127.0.0.1:8787").rstrip("/")
    if not urllib.parse.urlparse(url).path:
        url += "/v1/reward"
    return url


def _spec(spec=None):
    spec = spec if spec is not None else os.environ.get("RLXF_REWARD_SPEC", "math")
    if isinstance(spec, str) and spec.lstrip().startswith("{"):
        return json.loads(spec)
    return spec


def score_samples(samples, spec=None):
    """POST {"samples": [...], "spec": ...}; returns the list of results (dicts with "score")."""
    body = json.dumps({"samples": samples, "spec": _spec(spec)}).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    key = os.environ.get("RLXF_API_KEY")
    if key:
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(_url(), data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=float(os.environ.get("RLXF_TIMEOUT", "60"))) as res:
            return json.loads(res.read().decode("utf-8"))["results"]
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")[:500]
        raise RuntimeError("rlxf reward service answered %d: %s" % (e.code, detail)) from None


def sample(completion, reference=None, prompt=None):
    s = {"completion": completion}
    if reference is not None:
        s["reference"] = reference
    if prompt is not None:
        s["prompt"] = prompt
    return s
