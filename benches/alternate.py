#!/usr/bin/env python3
"""Times commands in alternating rounds: every command once per round, in a fresh random order.

On a shared machine the speed drifts from one minute to the next; hyperfine runs all of one
command's runs, then all of the other's, so a drift falls on one side of a ratio. Here it falls
on every command alike, and the ratio of two commands is also taken within each round.

usage: alternate.py ROUNDS NAME=COMMAND [NAME=COMMAND ...] [--json FILE]

Prints, per command, the median and fastest wall time; for every command after the first, the
median over the rounds of its time divided by the first command's in the same round, and the
ratio of the medians. A command may exit 0 or 1 (a check with findings); any other exit stops.
"""

import json
import random
import shlex
import statistics
import subprocess
import sys
import time


def main(argv):
    args = list(argv)
    out = None
    if "--json" in args:
        i = args.index("--json")
        out = args[i + 1] if i + 1 < len(args) else None
        del args[i : i + 2]
        if out is None:
            sys.exit("alternate.py: --json needs a file")
    if len(args) < 2 or not args[0].isdigit() or not all("=" in a for a in args[1:]):
        sys.exit(__doc__)
    rounds = max(1, int(args[0]))
    commands = [(name, shlex.split(cmd)) for name, cmd in (a.split("=", 1) for a in args[1:])]
    times = {name: [] for name, _ in commands}
    for _ in range(rounds):
        order = commands[:]
        random.shuffle(order)
        for name, cmd in order:
            start = time.perf_counter()
            code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            times[name].append(time.perf_counter() - start)
            if code not in (0, 1):
                sys.exit(f"alternate.py: `{' '.join(cmd)}` exited {code}")
    first = commands[0][0]
    result = {}
    for name, _ in commands:
        t = times[name]
        row = {"median_ms": statistics.median(t) * 1e3, "fastest_ms": min(t) * 1e3, "rounds": rounds}
        line = f"{name:>12}  median {row['median_ms']:8.1f} ms  fastest {row['fastest_ms']:8.1f} ms"
        if name != first:
            per_round = [a / b for a, b in zip(t, times[first])]
            row["ratio_per_round"] = statistics.median(per_round)
            row["ratio_of_medians"] = statistics.median(t) / statistics.median(times[first])
            line += f"  ÷ {first}: {row['ratio_per_round']:.3f} per round, {row['ratio_of_medians']:.3f} of medians"
        result[name] = row
        print(line)
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
