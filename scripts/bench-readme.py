#!/usr/bin/python3
"""bench-readme.py -- put the latest `make bench` figures into README.md.

    bench-readme.py RESULTS_JSON README_MD

Replaces the text between the markers <!-- bench:begin --> and
<!-- bench:end --> with a table made from RESULTS_JSON (what zun-bench
writes): for every scenario its measured figure, the baseline measured in
the same run, the ratio, the target and whether it was met. Nothing in the
table is typed by hand, so it cannot go stale without saying when it was
measured. Refuses a results file that lacks any of scenarios 1-6 (a partial
run, e.g. `--only 3`), so the README never mixes runs.
"""
import json
import re
import sys

KEY_FIGURES = {
    "1": [("create_throughput_capsules_per_s", "{:.0f} capsules/s"),
          ("agent_cpu_ms_per_create", "agent CPU {:.2f} ms/capsule"),
          ("paced_cast_to_running_ms.p99", "paced p99 {:.1f} ms"),
          ("paced_warmup_cast_to_running_ms.p99",
           "the {paced_warmup} warm-up casts before them p99 {:.1f} ms"),
          ("paced_db_alone_two_commits_ms.p99",
           "the database alone at that pace (two commits in a row) p99 {:.1f} ms"),
          ("burst_cast_at_review_rate.cast_to_running_ms.p99",
           "burst cast at {review_rate:.0f}/s (the review's rate) p99 {:.0f} ms"),
          ("burst_cast_at_review_rate.capsules_per_s",
           "{:.0f} capsules/s"),
          ("burst_cast_to_running_ms.p99", "burst cast all at once p99 {:.0f} ms"),
          ("peak_rss_mib", "peak RSS {:.0f} MiB")],
    "2": [("time_until_all_running_ms", "all Running after {:.0f} ms")],
    "3": [("one_at_a_time_agent_ms.median", "one at a time {:.0f} ms"),
          ("five_at_a_time_ratio", "five at a time {:.2f}x direct"),
          ("interleaved.agent_ms_median", "interleaved: agent {:.0f} ms"),
          ("interleaved.agent_config_direct_ms_median",
           "its configs direct {:.0f} ms"),
          ("interleaved.agent_unconfined_ms_median",
           "agent without seccomp {:.0f} ms"),
          ("interleaved.agent_config_unconfined_direct_ms_median",
           "its configs without seccomp direct {:.0f} ms"),
          ("interleaved.minimal_direct_ms_median", "minimal four calls {:.0f} ms"),
          ("interleaved.agent_vs_minimal_ratio.median",
           "default agent {:.2f}x minimal"),
          ("interleaved.agent_polled_2ms_vs_minimal_ratio.median",
           "{:.2f}x timed by a 2 ms poller")],
    "4": [("agent_cpu_ms_per_relist", "agent CPU {:.1f} ms/relist"),
          ("agent_cpu_ms_per_relist_by_thread.reconciler",
           "{:.1f} ms of it on the relist's thread"),
          ("container_rows_written", "{} rows written"),
          ("agent_rss_mib", "RSS {:.0f} MiB")],
    "5": [("first_rpc_served_s", "first RPC served after {:.2f} s"),
          ("fully_reconciled_s", "reconciled after {:.2f} s")],
    "6": [("kill.capsules_running_after", "{} capsules Running after the kill"),
          ("kill.containers_restarted", "{} containers restarted on adoption")],
}

# Each scenario's targets (the numbers): figure path (or "ratio"),
# what it is, the bound, and whether the figure must stay below it.
TARGETS = {
    "1": [("create_throughput_capsules_per_s", "burst capsules/s", 500, False),
          ("burst_cast_at_review_rate.cast_to_running_ms.p99",
           "burst p99 ms (cast at {review_rate:.0f}/s)", 1000, True),
          ("agent_cpu_ms_per_create", "agent ms CPU/create", 1.0, True),
          ("paced_cast_to_running_ms.p99", "paced p99 ms", 20, True),
          ("idle_rss_mib", "MiB RSS idle", 30, True)],
    "2": [("ratio", "x critical path", 1.5, True)],
    "3": [("ratio", "x direct, one at a time", 1.10, True),
          ("interleaved.agent_vs_same_config_ratio.median",
           "x its configs direct, interleaved", 1.10, True),
          ("interleaved.agent_unconfined_vs_minimal_ratio.median",
           "without seccomp x minimal four calls, interleaved", 1.10, True),
          ("five_at_a_time_ratio", "x direct, five at a time", 1.15, True)],
    "4": [("agent_cpu_ms_per_relist", "ms CPU/relist", 20, True),
          ("container_rows_written", "rows written", 0, True),
          ("agent_rss_mib", "MiB RSS", 60, True)],
    "5": [("first_rpc_served_s", "s to serve", 2, True),
          ("fully_reconciled_s", "s to reconcile", 5, True)],
    "6": [("ratio", "x per-node load, 10 to 50 nodes", 1.2, True)],
}


def named(figures):
    """The figures a label may name, besides the one it shows: the rate the
    scenario cast its burst at and the paced phase's warm-up casts (labels
    say them as zun-bench recorded them)."""
    rate = lookup(figures, "burst_cast_at_review_rate.cast_rate_per_s")
    warmup = lookup(figures, "paced_warmup_casts")
    return {"review_rate": rate if isinstance(rate, (int, float)) else float("nan"),
            "paced_warmup": warmup if isinstance(warmup, int) else "?"}


def targets(num, s):
    out = []
    for path, what, bound, upper in TARGETS.get(num, []):
        what = what.format(**named(s.get("figures", {})))
        v = s.get("ratio") if path == "ratio" else lookup(s.get("figures", {}), path)
        if not isinstance(v, (int, float)):
            out.append(f"{what} {'<=' if upper else '>='} {bound}: no figure (**missed**)")
            continue
        ok = v <= bound if upper else v >= bound
        verdict = "met"
        if not ok:
            by = (v - bound) / bound * 100 if bound else None
            verdict = f"**missed** by {abs(by):.0f}%" if by is not None else "**missed**"
        out.append(f"{what} {'<=' if upper else '>='} {bound}: {fmt(v)} ({verdict})")
    return "; ".join(out) or s.get("target", "")


def lookup(figures, path):
    v = figures
    for part in path.split("."):
        if not isinstance(v, dict) or part not in v:
            return None
        v = v[part]
    return v


def fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def row(s):
    num = s.get("scenario", "?").split(".")[0]
    if "skipped" in s:
        return f"| {s['scenario']} | skipped: {s['skipped']} | | | | **missed** |"
    figures = s.get("figures", {})
    parts = []
    for path, text in KEY_FIGURES.get(num, []):
        v = lookup(figures, path)
        if v is not None:
            parts.append(text.format(v, **named(figures)))
    if not parts and "measured" in s:
        parts.append(fmt(s["measured"]))
    if "error" in s:
        # The first line only (an agent's log may follow), without the
        # characters that would break the table.
        first = s["error"].splitlines()[0] if s["error"] else "?"
        parts.insert(0, "failed: " + first.replace("|", "/"))
    baseline = s.get("baseline", {})
    base = f"{baseline.get('what', '')}: {fmt(baseline.get('value', ''))}"
    ratio = f"{s['ratio']:.2f}x" if isinstance(s.get("ratio"), (int, float)) else ""
    met = "met" if s.get("met") else "**missed**"
    return (f"| {s.get('scenario', '?')} | {'; '.join(parts)} | {base} | "
            f"{ratio} | {targets(num, s)} | {met} |")


def main():
    results, readme = sys.argv[1], sys.argv[2]
    doc = json.load(open(results))
    scenarios = doc.get("scenarios", [])
    have = {s.get("scenario", "").split(".")[0] for s in scenarios}
    missing = sorted({"1", "2", "3", "4", "5", "6"} - have)
    if missing:
        sys.exit(f"bench-readme: {results} lacks scenarios {', '.join(missing)}"
                 " (a partial run); README left as it is")
    met = sum(1 for s in scenarios if s.get("met"))
    lines = [
        f"Latest `make bench`: {doc.get('date', '?')} on"
        f" {' '.join(str(doc.get('machine', '?')).split())}"
        f" (shared with the servers, the runtime and the bench client: compare"
        f" the ratios, not absolute figures). Targets met: {met} of"
        f" {len(scenarios)}.",
        "",
        "| scenario | measured | baseline (same run) | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    lines += [row(s) for s in sorted(scenarios, key=lambda s: s.get("scenario", ""))]
    block = "<!-- bench:begin (scripts/bench-readme.py writes this) -->\n" + \
        "\n".join(lines) + "\n<!-- bench:end -->"
    text = open(readme).read()
    new, n = re.subn(r"<!-- bench:begin.*?<!-- bench:end -->", block, text,
                     flags=re.S)
    if n != 1:
        sys.exit("bench-readme: README has no bench:begin/bench:end markers")
    open(readme, "w").write(new)
    print(f"bench-readme: README table from {results} ({doc.get('date')})")


if __name__ == "__main__":
    main()
