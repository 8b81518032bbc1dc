#!/usr/bin/env python3
"""threadcpu.py PID INTERVAL — follow a process's threads until it exits and
print, as JSON, the CPU seconds (user+sys) of each thread name (threads of
one name summed) as last seen: "main" for the main thread, "grabber" for
threads named like the process (before the grab workers, the grabber of
`scan --grab` was a plain pthread, so it inherited the name; DPDK names its
own lcore threads), and "workers" for the child processes (the grab worker
processes, every thread of each). The last interval of a thread or child
that exits is not seen: INTERVAL bounds that error."""
import json, os, sys, time

pid, interval = int(sys.argv[1]), float(sys.argv[2])
hz = os.sysconf("SC_CLK_TCK")
seen = {}
kids = {}
main_comm = None


def children(pid):
    out = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                out.update(open(f"/proc/{pid}/task/{tid}/children").read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


while os.path.exists(f"/proc/{pid}"):
    for kid in children(pid):
        try:
            stat = open(f"/proc/{kid}/stat").read()
        except OSError:
            continue
        f = stat[stat.rindex(")") + 2:].split()
        kids[kid] = (int(f[11]) + int(f[12])) / hz
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
if kids:
    out["workers"] = round(sum(kids.values()), 3)
print(json.dumps(out))
