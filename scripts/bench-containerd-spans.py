#!/usr/bin/python3
"""Where scenario 3's interleaved arms spend their time inside containerd.

Usage: bench-containerd-spans.py [CONTAINERD_LOG]
       (default: build/bench/containerd.log, which scripts/bench.sh keeps)

containerd's CRI plugin logs, at level info, the start and the end of every
RunPodSandbox, CreateContainer and StartContainer. This script pairs them
per sandbox and prints, per arm of scenario 3's interleaved rounds
(bench/containerd_pairs.cc), the median time of each call, the gaps between
them, and the span from RunPodSandbox's start to StartContainer's end. Set
against the arm's time in results.json, the span splits the agent's time
into what containerd spent on its calls and what the agent spent outside
them (the delivery, the claim, the Running commit).

The arms are told apart by order: the rounds start at the first sandbox
named "minimal-", round r runs arm (r + k) % 6 as its k-th, and round 0 is
an untimed warm-up (containerd_pairs.cc). A sandbox whose calls did not all
succeed is left out.
"""
import re
import statistics
import sys
from datetime import datetime

ARMS = ["minimal", "config", "config without seccomp", "agent",
        "agent polled every 2 ms", "agent without seccomp"]


def stamp_ms(line):
    m = re.search(r'time="([^"]+)"', line)
    if not m:
        return None
    text = re.sub(r"(\.\d{6})\d*", r"\1", m.group(1)).replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp() * 1000


def sandboxes(path):
    order, pending, by_sandbox, by_container = [], {}, {}, {}
    with open(path, errors="replace") as log:
        for line in log:
            t = stamp_ms(line)
            if t is None:
                continue
            if "RunPodSandbox for &PodSandboxMetadata" in line:
                name = re.search(r"Name:([^,]+)", line).group(1)
                done = re.search(r'returns sandbox id \\"([0-9a-f]+)', line)
                if done:
                    s = pending.pop(name, None)
                    if s is not None:
                        s["run_end"] = t
                        by_sandbox[done.group(1)] = s
                elif "failed" not in line:
                    s = {"name": name, "run_start": t}
                    pending[name] = s
                    order.append(s)
            elif "CreateContainer within sandbox" in line:
                sid = re.search(r'within sandbox \\"([0-9a-f]+)', line)
                s = by_sandbox.get(sid.group(1)) if sid else None
                if s is None:
                    continue
                done = re.search(r'returns container id \\"([0-9a-f]+)', line)
                if done:
                    s["create_end"] = t
                    by_container[done.group(1)] = s
                elif "failed" not in line:
                    s["create_start"] = t
            elif "StartContainer for" in line:
                cid = re.search(r'StartContainer for \\"([0-9a-f]+)', line)
                s = by_container.get(cid.group(1)) if cid else None
                if s is None:
                    continue
                if "returns successfully" in line:
                    s["start_end"] = t
                elif "failed" not in line:
                    s["start_start"] = t
    return order


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build/bench/containerd.log"
    order = sandboxes(path)
    first = next((i for i, s in enumerate(order)
                  if s["name"].startswith("minimal-")), None)
    if first is None:
        sys.exit(f"{path}: no interleaved round (no sandbox named minimal-*)")
    keys = ("run_end", "create_start", "create_end", "start_start",
            "start_end")
    arms = {a: [] for a in ARMS}
    for j, s in enumerate(order[first:]):
        r, k = divmod(j, len(ARMS))
        if r > 0 and all(key in s for key in keys):
            arms[ARMS[(r + k) % len(ARMS)]].append(s)

    columns = [("RunPodSandbox", "run_start", "run_end"),
               ("gap", "run_end", "create_start"),
               ("CreateContainer", "create_start", "create_end"),
               ("gap", "create_end", "start_start"),
               ("StartContainer", "start_start", "start_end"),
               ("span", "run_start", "start_end")]
    print(f"{'arm (medians, ms)':<24}{'n':>4}" +
          "".join(f"{c[0]:>16}" for c in columns))
    for arm in ARMS:
        cells = []
        for _, a, b in columns:
            v = [s[b] - s[a] for s in arms[arm]]
            cells.append(f"{statistics.median(v):>16.1f}" if v else f"{'-':>16}")
        print(f"{arm:<24}{len(arms[arm]):>4}" + "".join(cells))


if __name__ == "__main__":
    main()
