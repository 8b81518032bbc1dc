#!/usr/bin/env python3
"""threadcpu.py PID INTERVAL — follow a process's threads until it exits and
print, as JSON, the CPU seconds (user+sys) of each thread name (threads of
one name summed) as last seen: "main" for the main thread, "grabber" for
threads named like the process (the grabber of `scan --grab` is a plain
pthread, so it inherits the name; DPDK names its own lcore threads). The last interval of a thread that exits is not
seen: INTERVAL bounds that error."""
import json, os, sys, time

pid, interval = int(sys.argv[1]), float(sys.argv[2])
hz = os.sysconf("SC_CLK_TCK")
seen = {}
main_comm = None
while os.path.exists(f"/proc/{pid}"):
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        break
    for tid in tids:
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        f = stat[stat.rindex(")") + 2:].split()
        if tid == str(pid):
            name, main_comm = "main", comm
        else:
            name = "grabber" if comm == main_comm else comm
        seen[tid] = (name, (int(f[11]) + int(f[12])) / hz)
    time.sleep(interval)
out = {}
for name, cpu in seen.values():
    out[name] = round(out.get(name, 0) + cpu, 3)
print(json.dumps(out))
