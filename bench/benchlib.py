#!/usr/bin/env python3
"""benchlib.py: the measuring half of bench/run (stdlib only).

Subcommands (all print one JSON object on stdout):
  rusage N -- CMD...      run CMD N times, one after the other; per run the
                          wall time and user+sys CPU of CMD and every
                          descendant it waited for (os.wait4), so a shell
                          pipeline's curl and jq are counted
  peakrss N -- CMD...     median peak RSS of CMD's largest process (GNU time)
  procs FILE              count processes, threads and execs in an
                          `strace -f -e trace=execve,clone,clone3,fork,vfork`
                          output file
  up PORT LIMIT -- CMD... start CMD, then connect to 127.0.0.1:PORT every 2 ms
                          until it accepts: seconds from CMD's start (CMD is
                          reaped too; its exit status is reported)
  waitport PORT LIMIT [T0]  the same without a command, timed from T0
                          (epoch seconds; default now)
  mem PID...              RSS, PSS and USS (kB) of each PID from smaps_rollup
                          (USS: Private_Clean + Private_Dirty)
  cpu PID                 the CPU time PID has used so far: schedstat's
                          nanoseconds on a CPU, and utime+stime in seconds
  rounds PID FILE N       drive N rounds of a `tunnelctl watch`: SIGUSR1,
                          then wait until FILE (its watch.json) counts one
                          more round, N times; the watcher's CPU (schedstat)
                          and wall time for them, its VmRSS and descriptors
                          before and after
  exchanges N LIMIT PID FILE -- CMD...
                          time N idle periods of a watcher: CMD prints
                          "BYTES PACKETS" (its traffic so far), read every
                          0.5 s; a burst of traffic (a keepalive exchange)
                          ends after 2 s of quiet. The window runs from the
                          start of one burst to the start of the N+1th: its
                          bytes, packets, seconds, PID's CPU (schedstat) and
                          the rounds FILE (watch.json) counted
  idle-asyncio            a python process importing what an asyncio tunnel
                          supervisor would, sitting in its event loop
Every wait is bounded by LIMIT (seconds); a timeout reports null.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import time


def median(xs):
    return statistics.median(xs) if xs else None


def split_cmd(argv):
    if "--" not in argv:
        sys.exit("benchlib: missing -- before the command")
    i = argv.index("--")
    return argv[:i], argv[i + 1:]


def run_once(cmd):
    """(wall s, user+sys s, maxrss kB, status) of one run of cmd."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, p.returncode


def cmd_rusage(argv):
    head, cmd = split_cmd(argv)
    n = int(head[0])
    walls, cpus, bad = [], [], 0
    for _ in range(n):
        w, c, _, st = run_once(cmd)
        walls.append(w)
        cpus.append(c)
        bad += st != 0
    return {
        "n": n,
        "failed_runs": bad,
        "wall_median_s": median(walls),
        "cpu_mean_s": sum(cpus) / n,
        "cpu_median_s": median(cpus),
    }


def cmd_peakrss(argv):
    # Peak RSS cannot come from our own wait4: a child forked from this
    # (10 MB) python inherits its high-water mark across exec. GNU time is
    # a small C program, so what it reports is the command's own peak (the
    # largest single process of the command's tree), floored at time's
    # ~1 MB.
    head, cmd = split_cmd(argv)
    n = int(head[0])
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                       "benchlib-rss.%d" % os.getpid())
    vals = []
    try:
        for _ in range(n):
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + cmd,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            with open(out, encoding="ascii") as f:
                vals.append(int(f.read().split()[-1]))
    finally:
        if os.path.exists(out):
            os.unlink(out)
    return {"n": n, "maxrss_median_kb": median(vals)}


def cmd_procs(argv):
    procs, threads, execs = 1, 0, 0
    with open(argv[0], encoding="utf-8", errors="replace") as f:
        for line in f:
            if "resumed>" in line:
                # an execve split by a concurrent process's syscall
                if "execve resumed>" in line and line.rstrip().endswith("= 0"):
                    execs += 1
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                continue
            call = parts[1]
            if call.startswith("execve(") and line.rstrip().endswith("= 0"):
                execs += 1
            elif call.startswith(("clone(", "clone3(", "fork(", "vfork(")):
                if "CLONE_THREAD" in call:
                    threads += 1
                else:
                    procs += 1
    return {"processes": procs, "threads": threads, "execs": execs}


def port_accepts(port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_accept(port, limit, t0, proc=None):
    status = None
    while True:
        if proc is not None and status is None:
            status = proc.poll()
        if port_accepts(port):
            break
        if time.perf_counter() - t0 > limit:
            return None, status
        time.sleep(0.002)
    took = time.perf_counter() - t0
    if proc is not None and status is None:
        try:
            status = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            status = "running"
    return took, status


def cmd_up(argv):
    head, cmd = split_cmd(argv)
    port, limit = int(head[0]), float(head[1])
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL)
    took, status = wait_accept(port, limit, t0, p)
    return {"seconds": took, "status": status}


def cmd_waitport(argv):
    port, limit = int(argv[0]), float(argv[1])
    # T0 (epoch seconds) lets the caller start the clock before it
    # started us, e.g. at the moment of an outage.
    back = time.time() - float(argv[2]) if len(argv) > 2 else 0.0
    t0 = time.perf_counter() - back
    took, _ = wait_accept(port, limit, t0)
    return {"seconds": took}


def rollup(pid):
    out = {"pid": pid, "rss_kb": None, "pss_kb": None, "uss_kb": None}
    try:
        with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "Rss":
                    out["rss_kb"] = int(v.split()[0])
                elif k == "Pss":
                    out["pss_kb"] = int(v.split()[0])
                elif k in ("Private_Clean", "Private_Dirty"):
                    out["uss_kb"] = (out["uss_kb"] or 0) + int(v.split()[0])
        with open("/proc/%d/comm" % pid, encoding="ascii") as f:
            out["comm"] = f.read().strip()
    except OSError:
        pass
    return out


def cmd_mem(argv):
    return {"procs": [rollup(int(p)) for p in argv]}


def cpu_of(pid):
    """(nanoseconds on a CPU from schedstat, utime+stime seconds)."""
    with open("/proc/%d/schedstat" % pid, encoding="ascii") as f:
        ns = int(f.read().split()[0])
    with open("/proc/%d/stat" % pid, encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ns, ticks / os.sysconf("SC_CLK_TCK")


def cmd_cpu(argv):
    ns, secs = cpu_of(int(argv[0]))
    return {"sched_ns": ns, "ticks_s": secs}


def vm_rss(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def watch_rounds(path):
    end = time.monotonic() + 10
    while True:
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)["rounds"]
        except (OSError, ValueError, KeyError):
            if time.monotonic() > end:
                raise
            time.sleep(0.001)


def cmd_rounds(argv):
    import signal
    pid, path, n = int(argv[0]), argv[1], int(argv[2])
    out = {"n": n, "rss_kb_before": vm_rss(pid),
           "fds_before": len(os.listdir("/proc/%d/fd" % pid))}
    ns0, s0 = cpu_of(pid)
    t0 = time.perf_counter()
    r = watch_rounds(path)
    for _ in range(n):
        os.kill(pid, signal.SIGUSR1)
        end = time.monotonic() + 10
        while True:
            cur = watch_rounds(path)
            if cur > r:
                break
            if time.monotonic() > end:
                out["failed"] = "a round did not come within 10 s"
                return out
            time.sleep(0.0002)
        r = cur
    ns1, s1 = cpu_of(pid)
    out.update({"wall_s": time.perf_counter() - t0, "sched_ns": ns1 - ns0,
                "ticks_s": s1 - s0, "rss_kb_after": vm_rss(pid),
                "fds_after": len(os.listdir("/proc/%d/fd" % pid))})
    return out


def cmd_exchanges(argv):
    head, cmd = split_cmd(argv)
    n, limit, pid, path = int(head[0]), float(head[1]), int(head[2]), head[3]

    def read():
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.split()
        return int(out[0]), int(out[1])

    t0 = time.monotonic()
    b_prev, p_prev = read()
    marks, bursts, cur = [], [], None
    while time.monotonic() - t0 < limit:
        time.sleep(0.5)
        now = time.monotonic()
        b, p = read()
        if b != b_prev:
            if cur is None:
                # totals before this burst: the window holds whole bursts
                marks.append((now, cpu_of(pid)[0], watch_rounds(path), b_prev, p_prev))
                if len(marks) == n + 1:
                    break
                cur = {"at_s": round(now - t0, 1), "bytes": 0, "packets": 0}
            cur["bytes"] += b - b_prev
            cur["packets"] += p - p_prev
            cur["last"] = now
            b_prev, p_prev = b, p
        elif cur is not None and now - cur["last"] >= 2:
            del cur["last"]
            bursts.append(cur)
            cur = None
    out = {"bursts": bursts, "periods": len(marks) - 1 if marks else 0}
    if len(marks) >= 2:
        a, z = marks[0], marks[-1]
        out.update({"window_s": z[0] - a[0], "cpu_ns": z[1] - a[1], "rounds": z[2] - a[2],
                    "bytes": z[3] - a[3], "packets": z[4] - a[4]})
    return out


def cmd_idle_asyncio(_argv):
    # What a python rewrite of the supervisor would load, then idle in
    # its event loop; the bench reads our smaps from outside.
    import asyncio  # noqa: F401
    import base64  # noqa: F401
    import datetime  # noqa: F401
    import logging  # noqa: F401
    import subprocess as _sp  # noqa: F401

    async def idle():
        await asyncio.sleep(3600)

    print(json.dumps({"pid": os.getpid()}), flush=True)
    asyncio.run(idle())
    return None


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmds = {
        "rusage": cmd_rusage, "peakrss": cmd_peakrss, "procs": cmd_procs, "up": cmd_up,
        "waitport": cmd_waitport, "mem": cmd_mem, "cpu": cmd_cpu, "rounds": cmd_rounds,
        "exchanges": cmd_exchanges,
        "idle-asyncio": cmd_idle_asyncio,
    }
    fn = cmds.get(sys.argv[1])
    if fn is None:
        sys.exit("benchlib: unknown subcommand %s" % sys.argv[1])
    res = fn(sys.argv[2:])
    if res is not None:
        print(json.dumps(res, sort_keys=True))


if __name__ == "__main__":
    main()
