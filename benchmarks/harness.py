"""What every benchmark script shares: timings that hold up on a shared machine.

A benchmark script is both the *parent* that prints the tables and the *child* that times one
library: ``python SCRIPT --child LIB`` times LIB's cases and prints one line of JSON. The parent
(:func:`run_phases`):

1. waits, at most ``--start-wait`` seconds, for the 1-minute load average to fall before starting
   (or for a 2 s sample to show the machine quiet: the average trails a minute behind);
2. times each library in its own phase, in its own child process: never one call of PyTorch, then
   one of numpy, as the worker threads one library leaves spinning slow the other down (PyTorch's
   CNN step went from 30 to 65-72 ms that way);
3. runs ``--processes`` (3) children per library, rotating the order of the libraries between
   rounds; each child reports, per case, the best and the median time of its repeats;
4. gates every child on an idle machine: during its timed phase the child measures the CPU time the
   *other* processes used (the machine's busy time in /proc/stat minus its own utime + stime in
   /proc/self/stat) as a share of the machine. A child above ``--max-load`` (3%) is run again, at most
   ``--retries`` times after a pause (5 s, then 10 s); when no try is quiet, the quietest is kept and
   marked;
5. gates every repeat and every child on the machine's own speed: this VM now and then runs every
   process about 1.6x slower for a while (seconds to minutes, each CPU on its own: a fixed
   workload's time jumps between two levels), which /proc/stat does not show. A child times
   :func:`machine_probe` (a Python loop and a numpy sine on each CPU in turn, in a thread of its
   own so that the timing thread never changes CPU, about a millisecond
   per CPU) before and after its cases and around every repeat; a case's median leaves out the
   repeats whose probe took more than ``MAX_SLOWDOWN`` (25%) longer than the child's fastest
   probe, and a child whose fastest probe took that much longer than the run's fastest (the
   parent's own at the start included), or with a case that never ran at the usual speed, is run
   again, as a loaded one is. Before each child starts, the parent waits (at most ``--speed-wait``,
   30 s) for three probes in a row at the usual speed, so that a child starts on a fast machine.
   The run's fastest starts from the fastest probe earlier runs saw (``SPEED_RECORD``, kept per
   CPU, Python and numpy; ``--forget-speed`` starts it afresh), so a run that is slowed
   throughout is judged against the usual speed too, not against its own slow probes.

The tables then show each case as ``median [min-max]`` over the processes (of each process's median
time) and the ratio of the medians against a reference library, with the load and the probe's
slowdown each process saw.

Nothing here changes the garbage collector's settings or the libraries' thread counts: both run
as users run them (numpy's OpenBLAS and PyTorch each default to one thread per core).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROCESSES = 3  # children per library
MAX_LOAD = 0.03  # others' share of the machine above which a child is run again
RETRIES = 2  # extra tries of a loaded child
RETRY_WAIT_S = 5.0  # pause before a retry
START_WAIT_S = 60.0  # longest wait for a quiet machine before the first child
SPEED_WAIT_S = 30.0  # longest wait, before each child, for the machine to run at its usual speed
SPEED_SETTLE = 3  # probes in a row at the usual speed that end that wait
QUIET_SAMPLE_S = 2.0  # how long the start check samples the machine's CPU use
MAX_SLOWDOWN = 0.25  # a child whose machine probe ran this much slower than the run's fastest is run again
# the fastest probe earlier runs saw on this machine (and Python, numpy): a run that is slowed from
# its first probe to its last is then still judged against the machine's usual speed
SPEED_RECORD = Path(__file__).resolve().with_name(".speed_record.json")


# ---------------------------------------------------------------- reading /proc
@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU time so far, in clock ticks summed over all CPUs."""

    busy: int
    total: int


def parse_proc_stat(text: str) -> CpuTimes:
    """The aggregate ``cpu`` line of /proc/stat as busy and total ticks.

    Busy is user + nice + system + irq + softirq + steal (steal: a hypervisor ran someone else on our
    CPU); idle and iowait are not busy. guest and guest_nice are already counted in user and nice.
    """
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:9]] + [0] * (8 - len(fields[1:9]))
            user, nice, system, idle, iowait, irq, softirq, steal = values
            busy = user + nice + system + irq + softirq + steal
            return CpuTimes(busy=busy, total=busy + idle + iowait)
    raise ValueError("no aggregate 'cpu' line in /proc/stat text")


def parse_pid_stat(text: str) -> int:
    """utime + stime (clock ticks, all threads) from the text of /proc/PID/stat.

    The second field, the command name in parentheses, may itself hold spaces and parentheses,
    so the fields are counted from the last ')'.
    """
    end = text.rfind(")")
    if end < 0:
        raise ValueError("not the text of /proc/PID/stat: no ')' after the command name")
    rest = text[end + 1 :].split()  # rest[0] is field 3 (state); utime and stime are fields 14 and 15
    if len(rest) < 13:
        raise ValueError(f"/proc/PID/stat text too short: {len(rest) + 2} fields, need at least 15")
    return int(rest[11]) + int(rest[12])


def others_share(before: CpuTimes, after: CpuTimes, own_ticks: int) -> float:
    """The share of the machine (0..1) used by other processes between two /proc/stat readings,
    given the ticks this process used meanwhile. Tick counting is coarse, so a slightly negative
    difference reads as 0."""
    elapsed = after.total - before.total
    if elapsed <= 0:
        return 0.0
    return max(0, after.busy - before.busy - own_ticks) / elapsed


def read_cpu_times() -> CpuTimes:
    """The machine's CPU time now (/proc/stat)."""
    return parse_proc_stat(Path("/proc/stat").read_text())


def read_own_ticks() -> int:
    """This process's CPU time now, all threads (/proc/self/stat)."""
    return parse_pid_stat(Path("/proc/self/stat").read_text())


class LoadMeter:
    """A ``with`` block that measures the other processes' share of the machine while it runs.

    >>> with LoadMeter() as meter:
    ...     work()
    >>> meter.share  # 0.012 means others used 1.2% of all CPUs meanwhile
    """

    def __enter__(self) -> LoadMeter:
        self.share: float | None = None
        self._start = (read_cpu_times(), read_own_ticks(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        machine, own, clock = self._start
        self.seconds = time.perf_counter() - clock
        self.share = others_share(machine, read_cpu_times(), read_own_ticks() - own)


def cpu_model(cpuinfo: str) -> str:
    """The processor's name in the text of /proc/cpuinfo ('unknown CPU' if none is given)."""
    for key in ("model name", "Model", "Hardware", "Processor", "cpu model"):
        for line in cpuinfo.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return "unknown CPU"


def load_average() -> float:
    """The 1-minute load average (/proc/loadavg)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def busy_share(seconds: float) -> float:
    """The share of the machine that all other processes use over the next ``seconds``."""
    with LoadMeter() as meter:
        time.sleep(seconds)
    return meter.share


def machine_probe(repeats: int = 15) -> float:
    """Seconds of a fixed workload (a Python loop, then a numpy sine over 65,536 floats) on the
    slowest of this process's CPUs: a probe thread runs it on each CPU in turn (the median of
    ``repeats`` there; about 1 ms each) while the calling thread waits. The slowdown this VM shows
    comes and goes for each CPU on its own, and a two-thread GEMM runs at its slower CPU's pace.

    The caller's own CPU affinity is never changed: pinning the timing thread itself to each CPU
    in turn and back made the next two-thread OpenBLAS product after the probe take 8-14 ms where
    it took 1 (11 of 15 tries against 0 of 15, measured in one process): the repeat a probe is
    meant to vouch for was the one it slowed."""
    import numpy as np

    x = np.linspace(0.0, 1.0, 1 << 16, dtype=np.float32)
    y = np.empty_like(x)
    allowed = sorted(os.sched_getaffinity(0))
    medians: list[float] = []

    def probe_each_cpu() -> None:  # (in its own thread: on Linux the affinity set here is this thread's)
        for cpu in allowed:
            os.sched_setaffinity(0, {cpu})
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                total = 0
                for i in range(20_000):
                    total += i * i
                np.sin(x, out=y)
                times.append(time.perf_counter() - start)
            medians.append(statistics.median(times))

    prober = threading.Thread(target=probe_each_cpu, name="machine probe")
    prober.start()
    prober.join()
    if len(medians) != len(allowed):
        raise RuntimeError("the machine probe's thread failed (see its traceback above)")
    return max(medians)


# ---------------------------------------------------------------- the child: timing one library
def stats(times: Sequence[float]) -> dict[str, float]:
    """Best and median of a list of seconds (what a child reports per case)."""
    return {"best": min(times), "median": statistics.median(times), "repeats": len(times)}


def time_case(
    fn: Callable[[], object],
    *,
    budget_s: float = 1.0,
    min_repeats: int = 5,
    max_repeats: int = 50,
    repeat_s: float | None = None,
    warmup: int = 2,
    before_each: Callable[[], object] | None = None,
    probe: Callable[[], float] | None = lambda: machine_probe(repeats=1),
) -> dict[str, Any]:
    """Time ``fn``: ``warmup`` untimed calls, then repeats of ``number`` calls each.

    A repeat is one call (calls of a millisecond or more), or, with ``repeat_s``, as many calls as
    fill about ``repeat_s`` (calls of microseconds: the clock's resolution and its own cost then do
    not count). As many repeats as fill about ``budget_s``, within ``[min_repeats, max_repeats]``.
    ``before_each`` runs before every repeat, outside the timing. Returns the best and the median
    seconds per call, and the number of calls per repeat; with ``probe`` (taken before the first
    repeat and after each), also every repeat's time and the slower of the probes on either side
    of it (``times``, ``probes``), from which :func:`child_report` leaves out the repeats the
    machine ran slowed.
    """
    for _ in range(warmup):
        fn()
    calls, elapsed = 1, 0.0
    while True:  # calibrate on a run of calls long enough not to be one hiccup
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if not repeat_s or elapsed >= repeat_s / 4 or calls >= 1_000_000:
            break
        calls *= 4
    once = max(elapsed / calls, 1e-9)
    number = max(1, round(repeat_s / once)) if repeat_s else 1
    repeats = max(min_repeats, min(max_repeats, int(budget_s / (once * number))))
    times, probes = [], []
    between = probe() if probe is not None else 0.0  # one probe between two repeats serves both
    for _ in range(repeats):
        if before_each is not None:
            before_each()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
        if probe is not None:
            before, between = between, probe()
            probes.append(max(before, between))
    result = {**stats(times), "number": number}
    if probe is not None:
        result.update(times=times, probes=probes)
    return result


def usual_speed(result: dict[str, Any], fastest: float, max_slowdown: float = MAX_SLOWDOWN) -> dict[str, Any]:
    """A :func:`time_case` result without its repeats the machine ran slowed: those whose probe took
    over ``1 + max_slowdown`` times ``fastest`` (the child's fastest probe). The median is then the
    kept repeats' (``kept`` of ``repeats``); the best stays the best of all. With fewer than 3 kept
    (or fewer than all of fewer than 3) it keeps every repeat and reports the repeats' median probe
    as ``slowed``: the parent then sees a slowed child. A result without probes is returned as it is.
    """
    if "probes" not in result:
        return result
    times, probes = result["times"], result["probes"]
    kept = [t for t, p in zip(times, probes) if p <= fastest * (1 + max_slowdown)]
    out = {key: value for key, value in result.items() if key not in ("times", "probes")}
    if len(kept) >= min(3, len(times)):
        out.update(median=statistics.median(kept), kept=len(kept))
    else:
        out.update(kept=len(times), slowed=statistics.median(probes))
    return out


def runtime_info() -> dict[str, Any]:
    """Versions and thread counts of what this process has loaded (reported by each child)."""
    info: dict[str, Any] = {"python": platform.python_version()}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        info["numpy"] = numpy.__version__
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch threads"] = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # HIPS autograd's venv has numpy only
        pass
    else:
        blas = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
        if blas:
            info["blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')}"
            info["blas threads"] = blas[0]["num_threads"]
    return info


def child_report(
    lib: str,
    cases: Mapping[str, Callable[[], dict[str, float]]],
    *,
    check: Any = None,
    extra: Mapping[str, Any] | None = None,
    info: Mapping[str, Any] | None = None,
) -> None:
    """Run the timing of each case inside a :class:`LoadMeter`, between two :func:`machine_probe`,
    then print the child's one line of JSON: the cases' times (each median over the repeats the
    machine ran at its usual speed, :func:`usual_speed`), the others' load, the probe (the child's
    fastest, then the probe of any case that never ran at that speed), :func:`runtime_info` and
    ``info`` (versions the parent
    prints), ``check`` (values the parent compares across libraries: equal work) and ``extra``
    (anything else for the parent).

    A case's function returns :func:`time_case`'s dict, or a dict of several such dicts (one
    measurement timing several parts): ``{"forward": ..., "backward": ...}`` returned for case
    ``"phase"`` become cases ``"phase forward"`` and ``"phase backward"``.
    """
    times = {}
    probes = [machine_probe()]
    with LoadMeter() as meter:
        for name, timing in cases.items():
            result = timing()
            if "median" in result:
                times[name] = result
            else:
                times.update({f"{name} {part}": value for part, value in result.items()})
    probes.append(machine_probe())
    fastest = min(probes + [p for result in times.values() for p in result.get("probes", ())])
    times = {name: usual_speed(result, fastest) for name, result in times.items()}
    # the parent judges the child by its fastest probe, and by each case that never ran at that speed
    probes = [fastest] + [result["slowed"] for result in times.values() if "slowed" in result]
    report = {
        "lib": lib,
        "cases": times,
        "load": meter.share,
        "probe": probes,
        "window_s": meter.seconds,
        "info": {**runtime_info(), **(info or {})},
        "check": check,
        "extra": dict(extra or {}),
    }
    print(json.dumps(report), flush=True)


def parse_child_output(stdout: str) -> dict[str, Any]:
    """The child's report: the last line of its output that is a JSON object (a library may print
    warnings before it)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    raise ValueError(f"the child printed no JSON report; its output ends with: {stdout[-500:]!r}")


# ---------------------------------------------------------------- the parent: gated phases
@dataclass
class ChildCommand:
    """How to start a library's child: which Python, in which folder, with which environment."""

    python: str = sys.executable
    cwd: str | None = None
    env: dict[str, str] | None = None


@dataclass
class Run:
    """One accepted child process: its report, the others' load it saw, how many tries it took, and
    how much slower than the run's fastest its machine probe ran."""

    lib: str
    report: dict[str, Any]
    tries: int
    quiet: bool
    slowdown: float | None = None  # the child's slower probe / the run's fastest probe when it was judged

    @property
    def load(self) -> float:
        return self.report["load"]

    def time(self, case: str, stat: str = "median") -> float | None:
        """Seconds per call of ``case`` (the process's median by default); None if not timed."""
        found = self.report["cases"].get(case)
        return None if found is None else found[stat]


@dataclass
class Options:
    """The harness's settings (command-line flags, see :func:`add_options`)."""

    processes: int = PROCESSES
    max_load: float = MAX_LOAD
    retries: int = RETRIES
    retry_wait_s: float = RETRY_WAIT_S
    start_wait_s: float = START_WAIT_S
    max_slowdown: float = MAX_SLOWDOWN
    speed_wait_s: float = SPEED_WAIT_S
    speed_record: Path | None = None  # where the machine's fastest probe is kept between runs (None: nowhere)
    forget_speed: bool = False  # start the record afresh (after a change of machine)
    log: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))


def add_options(parser: argparse.ArgumentParser) -> None:
    """The flags every benchmark script takes."""
    parser.add_argument("--child", metavar="LIB", help=argparse.SUPPRESS)  # internal: time one library
    parser.add_argument("--processes", type=int, default=PROCESSES, help="child processes per library (default 3)")
    parser.add_argument(
        "--max-load",
        type=float,
        default=MAX_LOAD * 100,
        metavar="PERCENT",
        help="rerun a child if other processes used more than this share of the CPUs meanwhile (default 3)",
    )
    parser.add_argument("--retries", type=int, default=RETRIES, help="reruns of a loaded child (default 2)")
    parser.add_argument("--retry-wait", type=float, default=RETRY_WAIT_S, metavar="S", help="pause before a rerun")
    parser.add_argument(
        "--start-wait", type=float, default=START_WAIT_S, metavar="S", help="longest wait for a quiet machine at start"
    )
    parser.add_argument(
        "--speed-wait",
        type=float,
        default=SPEED_WAIT_S,
        metavar="S",
        help="longest wait, before each child, for the machine probe to show the usual speed (default 30)",
    )
    parser.add_argument(
        "--forget-speed",
        action="store_true",
        help=f"judge this run by its own fastest probe, not the fastest on record ({SPEED_RECORD.name})",
    )


def options_from(args: argparse.Namespace) -> Options:
    """:class:`Options` from the parsed flags of :func:`add_options`."""
    return Options(
        processes=args.processes,
        max_load=args.max_load / 100,
        retries=args.retries,
        retry_wait_s=args.retry_wait,
        start_wait_s=args.start_wait,
        speed_wait_s=args.speed_wait,
        speed_record=SPEED_RECORD,
        forget_speed=args.forget_speed,
    )


def speed_key() -> str:
    """What a probe's time depends on besides the machine's state: the CPU, Python and numpy."""
    import numpy as np

    try:
        cpu = cpu_model(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu = platform.processor() or "unknown CPU"
    return f"{cpu}, {os.cpu_count()} CPUs; Python {platform.python_version()}; numpy {np.__version__}"


def read_speed_record(path: Path, key: str) -> float | None:
    """The fastest probe on record in ``path`` for ``key`` (None: no record, or another machine's)."""
    try:
        record = json.loads(path.read_text())
        return float(record["fastest_s"]) if record.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_speed_record(path: Path, key: str, fastest_s: float) -> None:
    """Keep ``fastest_s`` as the fastest probe on record for ``key``."""
    path.write_text(json.dumps({"key": key, "fastest_s": fastest_s}) + "\n")


class SpeedGate:
    """The fastest :func:`machine_probe` of a run so far, and each child's slowdown against it."""

    def __init__(self, fastest: float) -> None:
        self.fastest = fastest

    def slowdown(self, report: Mapping[str, Any]) -> float | None:
        """The report's slower probe over the fastest probe seen, this report's included (None
        without probes: a child that did not measure one)."""
        probes = report.get("probe")
        if not probes:
            return None
        self.fastest = min(self.fastest, *probes)
        return max(probes) / self.fastest

    def wait(
        self,
        *,
        max_wait_s: float,
        max_slowdown: float = MAX_SLOWDOWN,
        settle: int = SPEED_SETTLE,
        probe: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> float | None:
        """Wait, at most ``max_wait_s``, until ``settle`` probes in a row (0.2 s apart) run within
        ``1 + max_slowdown`` of the fastest (each probe may lower the fastest). Returns the seconds
        waited, or None when the machine never settled: the child then starts anyway and is judged
        by its own probes (``probe``: :func:`machine_probe`)."""
        start, in_a_row = clock(), 0
        while True:
            seconds = probe() if probe is not None else machine_probe()
            self.fastest = min(self.fastest, seconds)
            in_a_row = in_a_row + 1 if seconds <= self.fastest * (1 + max_slowdown) else 0
            waited = clock() - start
            if in_a_row >= settle:
                return waited
            if waited >= max_wait_s:
                return None
            sleep(0.2)


def library_order(libs: Sequence[str], round_index: int) -> list[str]:
    """The libraries in round ``round_index``: rotated by one each round, so none always goes first."""
    shift = round_index % len(libs)
    return list(libs[shift:]) + list(libs[:shift])


def run_gated(
    run_once: Callable[[], dict[str, Any]],
    *,
    max_load: float,
    retries: int,
    retry_wait_s: float,
    describe: str = "child",
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    slowdown: Callable[[dict[str, Any]], float | None] = lambda report: None,
    max_slowdown: float = MAX_SLOWDOWN,
) -> tuple[dict[str, Any], int, bool]:
    """Run a child until its report's ``load`` is at most ``max_load`` and its ``slowdown(report)``
    (None: not judged) at most ``1 + max_slowdown``, at most ``1 + retries`` times, pausing
    ``retry_wait_s`` before the first rerun and twice as long before each further one.

    Returns (report, tries, quiet): the first report that passes, or the least bad one when none
    did (bad: how far over its limit the load or the slowdown was).
    """

    def badness(report: dict[str, Any]) -> float:
        slow = slowdown(report)
        return max(report["load"] / max_load if max_load else report["load"], (slow or 1.0) / (1 + max_slowdown))

    best: tuple[float, dict[str, Any]] | None = None
    for attempt in range(1, retries + 2):
        report = run_once()
        slow = slowdown(report)
        loaded, slowed = report["load"] > max_load, slow is not None and slow > 1 + max_slowdown
        if not loaded and not slowed:
            return report, attempt, True
        if best is None or badness(report) < best[0]:
            best = (badness(report), report)
        if attempt <= retries:
            pause = retry_wait_s * 2 ** (attempt - 1)  # a burst of load often lasts a while: wait longer each time
            why = (
                f"other processes used {report['load']:.1%} of the CPUs (over {max_load:.0%})"
                if loaded
                else f"the machine probe ran {slow:.2f}x the run's fastest (over {1 + max_slowdown:.2f}x)"
            )
            log(f"  {describe}: {why}; again in {pause:g} s (try {attempt + 1} of {retries + 1})")
            sleep(pause)
    report = best[1]
    slow = slowdown(report)
    log(
        f"  {describe}: no quiet try in {retries + 1}; keeping the least bad ({report['load']:.1%} load"
        + ("" if slow is None else f", probe {slow:.2f}x")
        + ")"
    )
    return report, retries + 1, False


def wait_for_quiet(
    *,
    max_wait_s: float,
    max_load: float,
    load_limit: float,
    read_load: Callable[[], float] = load_average,
    sample: Callable[[float], float] = busy_share,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Wait, at most ``max_wait_s``, for the 1-minute load average to fall to ``load_limit``.

    The load average trails the last minute (our own previous benchmark included), so a sample of
    the other processes' CPU share at most ``max_load`` also counts as quiet. Returns a line saying
    how the machine was found.
    """
    start = clock()
    while True:
        load = read_load()
        if load <= load_limit:
            return f"1-minute load {load:.2f} (<= {load_limit:.2f})"
        share = sample(QUIET_SAMPLE_S)
        waited = clock() - start
        if share <= max_load:
            return f"1-minute load {load:.2f}, but others used {share:.1%} of the CPUs over {QUIET_SAMPLE_S:g} s"
        if waited >= max_wait_s:
            return (
                f"not quiet after {waited:.0f} s: 1-minute load {load:.2f}, others using {share:.1%} of the CPUs "
                "(every child is still gated)"
            )
        sleep(min(5.0, max(0.0, max_wait_s - waited)))


def run_child(script: Path, lib: str, args: Sequence[str] = (), command: ChildCommand | None = None) -> dict[str, Any]:
    """Start ``SCRIPT --child LIB ARGS`` and return its JSON report (a failed child raises, with its stderr)."""
    command = command or ChildCommand()
    proc = subprocess.run(
        [command.python, str(script), "--child", lib, *args],
        capture_output=True,
        text=True,
        cwd=command.cwd,
        env=command.env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the {lib} child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return parse_child_output(proc.stdout)


def run_phases(
    script: Path,
    libs: Sequence[str],
    options: Options,
    *,
    args: Sequence[str] = (),
    commands: Mapping[str, ChildCommand] | None = None,
) -> dict[str, list[Run]]:
    """Time every library in ``options.processes`` gated child processes each (see the module's
    docstring). Returns each library's accepted runs, in the order they ran."""
    started = time.monotonic()
    options.log(
        wait_for_quiet(
            max_wait_s=options.start_wait_s, max_load=options.max_load, load_limit=0.25 * (os.cpu_count() or 1)
        )
    )
    now = min(machine_probe() for _ in range(3))
    key = speed_key() if options.speed_record is not None else ""
    record = None
    if options.speed_record is not None and not options.forget_speed:
        record = read_speed_record(options.speed_record, key)
    if record is not None:
        slowed = now > record * (1 + options.max_slowdown)
        options.log(
            f"machine probe {now * 1e3:.2f} ms, fastest on record {record * 1e3:.2f} ms"
            + (" (the machine runs slowed now)" if slowed else "")
        )
    gate = SpeedGate(now if record is None else min(now, record))
    runs: dict[str, list[Run]] = {lib: [] for lib in libs}
    for round_index in range(options.processes):
        for lib in library_order(libs, round_index):
            describe = f"{Path(script).stem} {lib} process {round_index + 1}/{options.processes}"
            command = (commands or {}).get(lib)
            report, tries, quiet = run_gated(
                lambda lib=lib, command=command, describe=describe: _run_at_speed(
                    gate, options, describe, lambda: run_child(script, lib, args, command)
                ),
                max_load=options.max_load,
                retries=options.retries,
                retry_wait_s=options.retry_wait_s,
                describe=describe,
                log=options.log,
                slowdown=gate.slowdown,
                max_slowdown=options.max_slowdown,
            )
            slow = gate.slowdown(report)
            options.log(
                f"{describe}: others' load {report['load']:.1%}"
                + ("" if slow is None else f", machine probe {slow:.2f}x the fastest")
                + ("" if quiet else " (never quiet)")
            )
            runs[lib].append(Run(lib=lib, report=report, tries=tries, quiet=quiet, slowdown=slow))
    if options.speed_record is not None:
        write_speed_record(options.speed_record, key, gate.fastest)
    options.log(f"{Path(script).stem}: timed in {time.monotonic() - started:.0f} s")
    return runs


def _run_at_speed(
    gate: SpeedGate, options: Options, describe: str, run: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """``run()`` once the machine runs at its usual speed (:meth:`SpeedGate.wait`), saying so when
    that took a while."""
    waited = gate.wait(max_wait_s=options.speed_wait_s, max_slowdown=options.max_slowdown)
    if waited is None:
        options.log(f"  {describe}: the machine stayed slowed for {options.speed_wait_s:g} s; starting anyway")
    elif waited >= 1.0:
        options.log(f"  {describe}: waited {waited:.0f} s for the machine's usual speed")
    return run()


# ---------------------------------------------------------------- summaries and tables
@dataclass(frozen=True)
class Spread:
    """The median and the range of a few measurements (one per process)."""

    median: float
    low: float
    high: float


def spread(values: Sequence[float]) -> Spread:
    """Median, minimum and maximum of ``values``."""
    if not values:
        raise ValueError("spread of no values")
    return Spread(statistics.median(values), min(values), max(values))


def case_spread(runs: Sequence[Run], case: str, stat: str = "median") -> Spread | None:
    """The spread of a case's time over processes (None if no run timed it)."""
    values = [t for t in (run.time(case, stat) for run in runs) if t is not None]
    return spread(values) if values else None


def format_spread(value: Spread | None, scale: float = 1e3, digits: int = 1) -> str:
    """``median [min-max]`` with the values multiplied by ``scale`` (1e3: seconds to ms); '-' for None."""
    if value is None:
        return "-"
    m, lo, hi = (v * scale for v in (value.median, value.low, value.high))
    return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def ratio(numerator: Spread | None, denominator: Spread | None) -> float | None:
    """The ratio of two medians (None if either is missing)."""
    if numerator is None or denominator is None or denominator.median == 0:
        return None
    return numerator.median / denominator.median


def verdict(value: float | None, target: str) -> str:
    """'yes' if ``value`` meets ``target`` ('<= 1.5' or '>= 10'), 'NO' if not, '-' without either."""
    if value is None or not target:
        return "-"
    op, _, bound = target.partition(" ")
    if op not in ("<=", ">="):
        raise ValueError(f"target must read '<= N' or '>= N', got {target!r}")
    ok = value <= float(bound) if op == "<=" else value >= float(bound)
    return "yes" if ok else "NO"


def format_ratio(value: float | None, digits: int = 2) -> str:
    """``1.37x``, or '-' for None."""
    return "-" if value is None else f"{value:.{digits}f}x"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: the first column left-aligned, the others right-aligned, widths from the content."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def format_loads(runs: Mapping[str, Sequence[Run]], max_load: float, max_slowdown: float = MAX_SLOWDOWN) -> str:
    """One line per library: the others' CPU share each accepted process saw and its machine probe's
    slowdown (when measured), tries, quiet or not."""
    lines = [
        f"others' CPU share and the machine probe's slowdown during each process (a process over {max_load:.0%} "
        f"or {1 + max_slowdown:.2f}x is rerun; * = never quiet):"
    ]
    for lib, lib_runs in runs.items():
        seen = ", ".join(
            f"{run.load:.1%}"
            + ("" if run.slowdown is None else f" {run.slowdown:.2f}x")
            + ("" if run.quiet else "*")
            + (f" ({run.tries} tries)" if run.tries > 1 else "")
            for run in lib_runs
        )
        lines.append(f"  {lib}: {seen}")
    loud = sum(not run.quiet for lib_runs in runs.values() for run in lib_runs)
    if loud:
        lines.append(
            f"  {loud} process(es) never got a quiet machine at its usual speed: their times may be slow; rerun later"
        )
    return "\n".join(lines)


def machine_lines(runs: Mapping[str, Sequence[Run]]) -> list[str]:
    """The machine, and each library's versions and thread counts as its first child reported them."""
    try:
        cpu = cpu_model(Path("/proc/cpuinfo").read_text())
    except OSError:
        cpu = platform.processor() or "unknown CPU"
    lines = [f"machine: {cpu}, {os.cpu_count()} logical CPUs; Python {platform.python_version()}"]
    for lib, lib_runs in runs.items():
        if lib_runs:
            info = lib_runs[0].report.get("info", {})
            described = ", ".join(f"{k} {v}" for k, v in info.items() if k != "python")
            lines.append(f"  {lib}: {described}")
    return lines


def package_version(name: str) -> str:
    """An installed distribution's version, or 'not installed' (without importing it)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def projection(array: Any, seed: int = 0) -> list[float]:
    """``[<u, a>, |a|]`` for a fixed standard normal ``u``: two numbers, small enough for a child's JSON,
    that show whether two libraries computed the same array ``a`` (see :func:`projections_agree`).

    For a difference ``d`` between two arrays, ``<u, d>`` is normally distributed with standard
    deviation ``|d|``, so the projections differ by about the arrays' distance.
    """
    import numpy as np

    a = np.asarray(array, dtype=np.float64).ravel()
    u = np.random.default_rng(seed).standard_normal(a.size)
    return [float(u @ a), float(np.linalg.norm(a))]


def projections_agree(ours: Sequence[float], theirs: Sequence[float], rtol: float) -> bool:
    """Whether two :func:`projection` results agree: projections within ``rtol`` of the larger norm
    (arrays that differ by more than that, relative to their size, almost never pass) and norms
    within ``rtol`` of each other."""
    scale = max(ours[1], theirs[1])
    return abs(ours[0] - theirs[0]) <= rtol * scale and abs(ours[1] - theirs[1]) <= rtol * scale
