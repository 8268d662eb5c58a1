"""Run a program under a CPU-time limit, not a wall-clock one.

A robustness test must fail when ffq hangs, not when the machine is busy: on a
loaded machine a run that needs 1 s of CPU can take 20 s of wall time. So the
limit that decides "hang" is RLIMIT_CPU (the kernel stops the process with
SIGXCPU once it has used that much CPU), and the wall-clock limit is only a
generous backstop for a process that blocks without using CPU (then it is
killed and reported as blocked).

    r = limits.run([ffq, "autoquant", "m.py"], cpu=20, cwd=d)
    r.returncode, r.stdout, r.stderr, r.cpu (seconds used), r.wall, r.limit
    # r.limit: None, "cpu" (the CPU limit was reached) or "wall" (blocked)
"""
import math
import os
import resource
import signal
import subprocess
import threading
import time

# A process that blocks (waits on a pipe, sleeps) uses no CPU; after this many
# wall seconds per CPU second, with this floor, it is killed.
WALL_PER_CPU = 15
WALL_FLOOR = 300.0


class Result:
    def __init__(self, returncode, stdout, stderr, cpu, wall, limit):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.cpu, self.wall, self.limit = cpu, wall, limit

    def describe_limit(self, cpu):
        if self.limit == "cpu":
            return "hang: used its %gs CPU-time limit (%.1fs CPU, %.1fs wall)" % (cpu, self.cpu, self.wall)
        return "blocked: no result after %.0fs wall time with only %.1fs CPU" % (self.wall, self.cpu)


def run(cmd, cpu, wall=None, preexec=None, stdin=None, **kwargs):
    """Run cmd to completion with at most `cpu` seconds of CPU time.

    `wall` (default max(WALL_FLOOR, WALL_PER_CPU * cpu)) bounds the wall time of a
    process that stops using CPU. `preexec` runs in the child before exec, after the
    limit is set. Other keyword arguments go to subprocess.Popen.
    """
    wall = wall if wall is not None else max(WALL_FLOOR, WALL_PER_CPU * cpu)
    soft = max(1, int(math.ceil(cpu)))

    def pre():
        # SIGXCPU at the soft limit; the hard limit (SIGKILL) a few seconds later
        # in case SIGXCPU is caught.
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 5))
        if preexec:
            preexec()

    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pre, **kwargs)
    chunks = {"out": b"", "err": b""}

    def drain(stream, key):
        chunks[key] = stream.read()
        stream.close()

    readers = [threading.Thread(target=drain, args=(p.stdout, "out")),
               threading.Thread(target=drain, args=(p.stderr, "err"))]
    for t in readers:
        t.daemon = True
        t.start()
    if stdin is not None:
        def feed():
            try:
                p.stdin.write(stdin)
                p.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
    blocked = threading.Event()

    def kill():
        blocked.set()
        try:
            p.kill()
        except OSError:
            pass

    timer = threading.Timer(wall, kill)
    timer.daemon = True
    timer.start()
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    used = usage.ru_utime + usage.ru_stime
    limit = None
    if blocked.is_set():
        limit = "wall"
    elif p.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and used >= soft - 0.5:
        limit = "cpu"
    return Result(p.returncode, chunks["out"], chunks["err"], used, time.monotonic() - t0, limit)
