"""The AlpacaEval leaderboard's win-rate columns with pandas, the baseline of `npm run bench:leaderboard`.

Reads AlpacaEval annotation files (JSON arrays, gzip or not; the model is the file's name), computes per model what
AlpacaEval's metrics/winrate.py get_winrate computes (win rate, standard error, wins, losses, draws, total, discrete
win rate) and the average output length, and prints the rows as JSON, sorted by win rate.
"""
import gzip
import json
import os
import sys

import pandas as pd


def model_name(path):
    name = os.path.basename(path)
    for suffix in (".gz", ".json", ".jsonl"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        df = pd.DataFrame(json.load(f))
    df["generator_2"] = model_name(path)
    return df


df = pd.concat([read(p) for p in sys.argv[1:]], ignore_index=True)
p = pd.to_numeric(df["preference"], errors="coerce").replace({0.0: 1.5})
df["p"] = p
df["len_2"] = df["output_2"].fillna("").str.len()
rows = []
for model, g in df.groupby("generator_2", sort=False):
    pref = g["p"]
    valid = pref[(pref >= 1) & (pref <= 2)] - 1
    discrete = pref.where(pref == 1.5, pref.round())
    discrete = discrete[(discrete >= 1) & (discrete <= 2)] - 1
    rows.append(
        dict(
            model=model,
            win_rate=valid.mean() * 100,
            standard_error=valid.sem() * 100,
            n_wins=int((valid > 0.5).sum()),
            n_wins_base=int((valid < 0.5).sum()),
            n_draws=int((pref == 1.5).sum()),
            n_total=int(valid.count()),
            discrete_win_rate=discrete.mean() * 100,
            avg_length=g["len_2"].mean(),
        )
    )
print(json.dumps(sorted(rows, key=lambda r: -r["win_rate"])))
