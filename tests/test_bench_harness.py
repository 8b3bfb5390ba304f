"""The benchmark harness's logic (benchmarks/harness.py): /proc parsing, the idle gate's decisions,
statistics and formatting. No test here times anything or depends on how fast the machine is."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

HARNESS_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "harness.py"
_spec = importlib.util.spec_from_file_location("bench_harness", HARNESS_PATH)
harness = importlib.util.module_from_spec(_spec)
sys.modules["bench_harness"] = harness  # dataclasses look their module up while the class is made
_spec.loader.exec_module(harness)

PROC_STAT = """\
cpu  1000 20 300 5000 40 5 6 7 100 0
cpu0 500 10 150 2500 20 3 3 4 50 0
cpu1 500 10 150 2500 20 2 3 3 50 0
intr 123456
ctxt 98765
"""


# ---------------------------------------------------------------- the machine probe
def test_machine_probe_pins_a_thread_of_its_own_never_the_caller(monkeypatch):
    """The probe visits every CPU the process may use, from a thread of its own: changing the
    timing thread's own affinity slowed the two-thread product that came next."""
    import threading

    calls = []
    real = harness.os.sched_setaffinity

    def recording(pid, cpus):
        calls.append((threading.get_ident(), pid, set(cpus)))
        return real(pid, cpus)

    monkeypatch.setattr(harness.os, "sched_setaffinity", recording)
    before = harness.os.sched_getaffinity(0)
    seconds = harness.machine_probe(repeats=1)
    assert seconds > 0
    assert harness.os.sched_getaffinity(0) == before
    assert [cpus for _, _, cpus in calls] == [{cpu} for cpu in sorted(before)]
    assert all(ident != threading.get_ident() and pid == 0 for ident, pid, _ in calls)


# ---------------------------------------------------------------- /proc
def test_parse_proc_stat_counts_steal_and_irq_as_busy_and_skips_guest():
    times = harness.parse_proc_stat(PROC_STAT)
    busy = 1000 + 20 + 300 + 5 + 6 + 7  # guest (100) is already inside user
    assert times == harness.CpuTimes(busy=busy, total=busy + 5000 + 40)


def test_parse_proc_stat_accepts_an_old_kernels_shorter_line():
    times = harness.parse_proc_stat("cpu 10 0 5 100 1\n")
    assert times == harness.CpuTimes(busy=15, total=116)


def test_parse_proc_stat_without_the_cpu_line_says_so():
    with pytest.raises(ValueError, match="'cpu' line"):
        harness.parse_proc_stat("cpu0 1 2 3 4\nintr 5\n")


def test_parse_pid_stat_counts_fields_after_a_command_name_with_spaces_and_parentheses():
    fields_after_comm = ["S", "1", "2", "3", "0", "-1", "4194304", "10", "0", "0", "0", "1234", "567", "8", "9"]
    text = "4242 (python3 (bench) x) " + " ".join(fields_after_comm) + " 20 0 3 0\n"
    assert harness.parse_pid_stat(text) == 1234 + 567


def test_parse_pid_stat_rejects_other_text():
    with pytest.raises(ValueError, match="no '\\)'"):
        harness.parse_pid_stat("4242 python3 S 1 2")
    with pytest.raises(ValueError, match="too short"):
        harness.parse_pid_stat("4242 (python3) S 1 2 3")


def test_others_share_is_the_machines_busy_time_less_our_own():
    before = harness.CpuTimes(busy=1000, total=5000)
    after = harness.CpuTimes(busy=1250, total=5400)  # 400 ticks elapsed over all CPUs, 250 of them busy
    assert harness.others_share(before, after, own_ticks=230) == pytest.approx(20 / 400)
    assert harness.others_share(before, after, own_ticks=260) == 0.0  # coarse ticks: never negative
    assert harness.others_share(before, before, own_ticks=0) == 0.0  # no time elapsed


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs Linux's /proc")
def test_load_meter_reads_this_machine():
    with harness.LoadMeter() as meter:
        sum(range(10_000))
    assert 0.0 <= meter.share <= 1.0
    assert meter.seconds >= 0.0


def test_cpu_model_from_cpuinfo():
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n"
    assert harness.cpu_model(text) == "AMD EPYC 7B13"
    assert harness.cpu_model("processor\t: 0\nHardware\t: BCM2835\n") == "BCM2835"
    assert harness.cpu_model("processor\t: 0\n") == "unknown CPU"


# ---------------------------------------------------------------- statistics and formatting
def test_spread_and_its_format():
    s = harness.spread([0.030, 0.021, 0.024])
    assert s == harness.Spread(median=0.024, low=0.021, high=0.030)
    assert harness.format_spread(s) == "24.0 [21.0-30.0]"
    assert harness.format_spread(s, scale=1e6 / 100, digits=2) == "240.00 [210.00-300.00]"
    assert harness.format_spread(None) == "-"
    assert harness.spread([2.0, 1.0]).median == 1.5
    with pytest.raises(ValueError, match="no values"):
        harness.spread([])


def test_ratio_of_medians_and_verdicts():
    ours, theirs = harness.spread([3.0, 9.0, 4.0]), harness.spread([2.0, 2.0, 1.0])
    assert harness.ratio(ours, theirs) == 2.0
    assert harness.ratio(None, theirs) is None
    assert harness.format_ratio(1.3749) == "1.37x"
    assert harness.format_ratio(None) == "-"
    assert harness.verdict(1.5, "<= 1.5") == "yes"
    assert harness.verdict(1.51, "<= 1.5") == "NO"
    assert harness.verdict(9.9, ">= 10") == "NO"
    assert harness.verdict(10.0, ">= 10") == "yes"
    assert harness.verdict(None, "<= 1") == "-"
    assert harness.verdict(0.5, "") == "-"
    with pytest.raises(ValueError, match="'<= N' or '>= N'"):
        harness.verdict(1.0, "< 2")


def test_stats_are_the_best_and_the_median():
    assert harness.stats([3.0, 1.0, 2.0, 10.0]) == {"best": 1.0, "median": 2.5, "repeats": 4}


def test_format_table_aligns_the_first_column_left_and_numbers_right():
    text = harness.format_table(["case", "ms"], [["batch 16", "9.9"], ["batch 256", "168.2"]])
    assert text.splitlines() == [
        "case          ms",
        "----------------",
        "batch 16     9.9",
        "batch 256  168.2",
    ]


def make_run(lib, medians, load=0.01, tries=1, quiet=True):
    cases = {name: {"best": m * 0.9, "median": m, "repeats": 5} for name, m in medians.items()}
    report = {"lib": lib, "cases": cases, "load": load, "info": {"python": "3", "numpy": "2.4"}}
    return harness.Run(lib=lib, report=report, tries=tries, quiet=quiet)


def test_case_spread_over_processes():
    runs = [make_run("torch", {"step": t}) for t in (0.02, 0.03, 0.025)]
    assert harness.case_spread(runs, "step") == harness.Spread(0.025, 0.02, 0.03)
    best = harness.case_spread(runs, "step", stat="best")
    assert (best.median, best.low, best.high) == pytest.approx((0.0225, 0.018, 0.027))
    assert harness.case_spread(runs, "not timed") is None


def test_format_loads_marks_the_processes_that_never_got_a_quiet_machine():
    runs = {
        "dagrad": [make_run("dagrad", {}, load=0.004), make_run("dagrad", {}, load=0.021, tries=2)],
        "torch": [make_run("torch", {}, load=0.012), make_run("torch", {}, load=0.074, tries=3, quiet=False)],
    }
    lines = harness.format_loads(runs, max_load=0.03).splitlines()
    assert "over 3%" in lines[0]
    assert lines[1] == "  dagrad: 0.4%, 2.1% (2 tries)"
    assert lines[2] == "  torch: 1.2%, 7.4%* (3 tries)"
    assert "1 process(es) never got a quiet machine" in lines[3]
    assert len(harness.format_loads({"torch": runs["torch"][:1]}, 0.03).splitlines()) == 2  # all quiet: no warning
    runs["dagrad"][0].slowdown = 1.034  # a probe measured: its slowdown is shown
    assert harness.format_loads(runs, 0.03).splitlines()[1] == "  dagrad: 0.4% 1.03x, 2.1% (2 tries)"


def test_machine_lines_name_the_cpu_and_each_librarys_versions():
    runs = {"torch": [make_run("torch", {})]}
    runs["torch"][0].report["info"].update({"torch": "2.13.0", "torch threads": 2})
    lines = harness.machine_lines(runs)
    assert lines[0].startswith("machine: ") and "logical CPUs" in lines[0]
    assert lines[1] == "  torch: numpy 2.4, torch 2.13.0, torch threads 2"


def test_package_version_without_importing():
    assert harness.package_version("numpy") == np.__version__
    assert harness.package_version("no-such-distribution-here") == "not installed"


def test_projections_tell_equal_arrays_from_different_ones():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((64, 32, 3, 3))
    rounded = a.astype(np.float32)  # float32 rounding: a relative difference near 1e-8
    assert harness.projections_agree(harness.projection(a), harness.projection(rounded), rtol=1e-5)
    off = a + 0.01 * np.abs(a).mean() * rng.standard_normal(a.shape)  # about 1% of the array's size
    assert not harness.projections_agree(harness.projection(a), harness.projection(off), rtol=1e-3)
    transposed = a.transpose(1, 0, 2, 3)  # the same numbers in another order: the same norm
    assert not harness.projections_agree(harness.projection(a), harness.projection(transposed), rtol=1e-3)


# ---------------------------------------------------------------- the gate's decisions
class Recorder:
    """Fake clock, sleep, log and child for the gate's tests."""

    def __init__(self, loads=()):
        self.loads = list(loads)
        self.slept, self.logged, self.now = [], [], 0.0

    def child(self):
        return {"load": self.loads.pop(0), "n": len(self.loads)}

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def log(self, text):
        self.logged.append(text)


def test_a_quiet_child_is_accepted_at_once():
    rec = Recorder([0.01])
    report, tries, quiet = harness.run_gated(
        rec.child, max_load=0.03, retries=2, retry_wait_s=5, log=rec.log, sleep=rec.sleep
    )
    assert (report["load"], tries, quiet) == (0.01, 1, True)
    assert rec.slept == [] and rec.logged == []


def test_a_loaded_child_is_rerun_after_a_pause_until_quiet():
    rec = Recorder([0.12, 0.05, 0.02, 0.0])
    report, tries, quiet = harness.run_gated(
        rec.child, max_load=0.03, retries=3, retry_wait_s=5, describe="torch process 1/3", log=rec.log, sleep=rec.sleep
    )
    assert (report["load"], tries, quiet) == (0.02, 3, True)
    assert rec.slept == [5, 10]  # a longer pause each time
    assert rec.loads == [0.0]  # no run after the quiet one
    assert "torch process 1/3: other processes used 12.0% of the CPUs (over 3%)" in rec.logged[0]


def test_when_no_try_is_quiet_the_least_loaded_is_kept_and_marked():
    rec = Recorder([0.20, 0.06, 0.09])
    report, tries, quiet = harness.run_gated(
        rec.child, max_load=0.03, retries=2, retry_wait_s=1, log=rec.log, sleep=rec.sleep
    )
    assert (report["load"], tries, quiet) == (0.06, 3, False)
    assert rec.slept == [1, 2]  # no pause after the last try
    assert "no quiet try in 3" in rec.logged[-1] and "6.0% load" in rec.logged[-1]


def test_no_retries_means_one_try():
    rec = Recorder([0.5])
    assert harness.run_gated(rec.child, max_load=0.03, retries=0, retry_wait_s=1, log=rec.log, sleep=rec.sleep)[1:] == (
        1,
        False,
    )


def test_speed_gate_judges_a_childs_slower_probe_against_the_fastest_seen():
    gate = harness.SpeedGate(fastest=1.0e-3)
    assert gate.slowdown({"load": 0.0}) is None  # no probe: not judged
    assert gate.slowdown({"probe": [1.1e-3, 1.0e-3]}) == pytest.approx(1.1)
    assert gate.slowdown({"probe": [1.6e-3, 1.65e-3]}) == pytest.approx(1.65)  # the VM's slow state
    assert gate.slowdown({"probe": [0.8e-3, 1.6e-3]}) == pytest.approx(2.0)  # a faster probe moves the reference
    assert gate.fastest == 0.8e-3
    assert gate.slowdown({"probe": [0.9e-3, 0.85e-3]}) == pytest.approx(0.9 / 0.8)


def test_a_child_on_a_slowed_machine_is_rerun_like_a_loaded_one():
    rec = Recorder([0.0, 0.0, 0.0])
    probes = iter([[1.7e-3, 1.6e-3], [1.0e-3, 1.05e-3], [1.0e-3, 1.0e-3]])
    gate = harness.SpeedGate(fastest=1.0e-3)

    def child():
        return {**rec.child(), "probe": next(probes)}

    report, tries, quiet = harness.run_gated(
        child, max_load=0.03, retries=2, retry_wait_s=5, describe="dagrad process 2/3", log=rec.log,
        sleep=rec.sleep, slowdown=gate.slowdown, max_slowdown=0.25,
    )  # fmt: skip
    assert (report["probe"], tries, quiet) == ([1.0e-3, 1.05e-3], 2, True)
    assert rec.slept == [5]
    assert "dagrad process 2/3: the machine probe ran 1.70x the run's fastest (over 1.25x)" in rec.logged[0]


def test_when_every_try_is_slowed_the_least_slowed_is_kept_and_marked():
    rec = Recorder([0.0, 0.0])
    probes = iter([[1.7e-3, 1.7e-3], [1.4e-3, 1.3e-3]])
    gate = harness.SpeedGate(fastest=1.0e-3)
    report, tries, quiet = harness.run_gated(
        lambda: {**rec.child(), "probe": next(probes)}, max_load=0.03, retries=1, retry_wait_s=1, log=rec.log,
        sleep=rec.sleep, slowdown=gate.slowdown,
    )  # fmt: skip
    assert (report["probe"], tries, quiet) == ([1.4e-3, 1.3e-3], 2, False)
    assert "probe 1.40x" in rec.logged[-1]


def test_speed_wait_ends_after_enough_usual_speed_probes_in_a_row():
    rec = Recorder()
    probes = iter([1.6e-3, 1.0e-3, 1.1e-3, 1.7e-3, 1.0e-3, 1.2e-3, 1.05e-3, 9.0e-3])
    gate = harness.SpeedGate(fastest=1.0e-3)
    waited = gate.wait(
        max_wait_s=60, max_slowdown=0.25, settle=3, probe=lambda: next(probes), sleep=rec.sleep, clock=lambda: rec.now
    )
    assert waited == pytest.approx(1.2)  # 7 probes: a slow one breaks the first run of fast ones
    assert rec.slept == [0.2] * 6


def test_speed_wait_follows_a_faster_probe_and_gives_up_after_its_bound():
    rec = Recorder()
    gate = harness.SpeedGate(fastest=1.0e-3)
    probes = iter([0.5e-3] + [1.0e-3] * 100)  # after a probe twice as fast, the old speed is a slowed one
    waited = gate.wait(max_wait_s=1.9, probe=lambda: next(probes), sleep=rec.sleep, clock=lambda: rec.now)
    assert waited is None and gate.fastest == 0.5e-3
    assert rec.slept == [0.2] * 10  # the last probe, at 2.0 s, is past the bound


def test_run_phases_waits_for_the_usual_speed_before_each_child(monkeypatch):
    probes = iter([1e-3] * 3 + [2e-3] + [1e-3] * 6)  # the start's 3; slow once before the first child
    events = []

    def fake_child(script, lib, args, command):
        events.append(lib)
        return {"load": 0.0, "cases": {}, "probe": [1e-3]}

    def fake_probe():
        events.append("probe")
        return next(probes)

    monkeypatch.setattr(harness, "run_child", fake_child)
    monkeypatch.setattr(harness, "wait_for_quiet", lambda **kwargs: "quiet")
    monkeypatch.setattr(harness, "machine_probe", fake_probe)
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)
    options = harness.Options(processes=1, retries=0, log=lambda text: None)
    harness.run_phases(Path("bench_x.py"), ["dagrad", "torch"], options)
    # 3 probes set the run's fastest, then 3 usual-speed probes in a row before each child
    assert events == ["probe"] * 3 + ["probe"] * 4 + ["dagrad"] + ["probe"] * 3 + ["torch"]


def test_speed_record_is_read_back_only_for_the_same_key(tmp_path):
    path = tmp_path / "record.json"
    assert harness.read_speed_record(path, "cpu A") is None  # no file yet
    harness.write_speed_record(path, "cpu A", 0.8e-3)
    assert harness.read_speed_record(path, "cpu A") == 0.8e-3
    assert harness.read_speed_record(path, "cpu B") is None  # another machine's record
    path.write_text("{not json")
    assert harness.read_speed_record(path, "cpu A") is None


def _slowed_run(monkeypatch, tmp_path, forget):
    """run_phases on a machine slowed from start to end (every probe 1.6 ms) with 1.0 ms on record."""
    path = tmp_path / "record.json"
    harness.write_speed_record(path, harness.speed_key(), 1.0e-3)
    monkeypatch.setattr(harness, "run_child", lambda *a: {"load": 0.0, "cases": {}, "probe": [1.6e-3]})
    monkeypatch.setattr(harness, "wait_for_quiet", lambda **kwargs: "quiet")
    monkeypatch.setattr(harness, "machine_probe", lambda: 1.6e-3)
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)
    logged = []
    options = harness.Options(
        processes=1, retries=0, speed_wait_s=0, speed_record=path, forget_speed=forget, log=logged.append
    )
    runs = harness.run_phases(Path("bench_x.py"), ["dagrad"], options)
    return runs["dagrad"][0], logged, harness.read_speed_record(path, harness.speed_key())


def test_a_run_slowed_throughout_is_judged_against_the_fastest_probe_on_record(monkeypatch, tmp_path):
    run, logged, kept = _slowed_run(monkeypatch, tmp_path, forget=False)
    assert not run.quiet and run.slowdown == pytest.approx(1.6)
    assert "machine probe 1.60 ms, fastest on record 1.00 ms (the machine runs slowed now)" in logged
    assert kept == 1.0e-3  # a slower run never raises the record


def test_forget_speed_judges_the_run_by_its_own_probes_and_starts_a_new_record(monkeypatch, tmp_path):
    run, logged, kept = _slowed_run(monkeypatch, tmp_path, forget=True)
    assert run.quiet and run.slowdown == pytest.approx(1.0)
    assert not any("on record" in line for line in logged)
    assert kept == 1.6e-3


def test_library_order_rotates_so_each_library_goes_first_in_turn():
    assert [harness.library_order(["dagrad", "torch"], r) for r in range(3)] == [
        ["dagrad", "torch"],
        ["torch", "dagrad"],
        ["dagrad", "torch"],
    ]
    firsts = [harness.library_order(["dagrad", "torch", "numpy"], r)[0] for r in range(3)]
    assert firsts == ["dagrad", "torch", "numpy"]


def test_wait_for_quiet_starts_at_once_under_a_low_load_average():
    rec = Recorder()
    text = harness.wait_for_quiet(
        max_wait_s=60, max_load=0.03, load_limit=0.5, read_load=lambda: 0.2, sample=None, sleep=rec.sleep
    )
    assert "1-minute load 0.20" in text and rec.slept == []


def test_wait_for_quiet_accepts_a_quiet_sample_while_the_average_still_trails():
    samples = iter([0.40, 0.01])
    rec = Recorder()
    text = harness.wait_for_quiet(
        max_wait_s=60,
        max_load=0.03,
        load_limit=0.5,
        read_load=lambda: 1.7,
        sample=lambda seconds: next(samples),
        sleep=rec.sleep,
        clock=lambda: rec.now,
    )
    assert "others used 1.0%" in text and rec.slept == [5.0]


def test_wait_for_quiet_gives_up_after_its_bound():
    rec = Recorder()
    text = harness.wait_for_quiet(
        max_wait_s=12,
        max_load=0.03,
        load_limit=0.5,
        read_load=lambda: 1.9,
        sample=lambda seconds: 0.5,
        sleep=rec.sleep,
        clock=lambda: rec.now,
    )
    assert text.startswith("not quiet after 12 s") and "50.0%" in text
    assert rec.slept == [5.0, 5.0, 2.0]


def test_run_phases_runs_each_library_in_its_own_gated_processes(monkeypatch):
    started = []
    loads = iter([0.01, 0.2, 0.01, 0.02, 0.01, 0.01, 0.01])

    def fake_child(script, lib, args, command):
        started.append(lib)
        return {"load": next(loads), "cases": {}}

    monkeypatch.setattr(harness, "run_child", fake_child)
    monkeypatch.setattr(harness, "wait_for_quiet", lambda **kwargs: "quiet")
    monkeypatch.setattr(harness, "machine_probe", lambda: 1e-3)
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)
    logged = []
    options = harness.Options(processes=3, retries=2, retry_wait_s=0, log=logged.append)
    runs = harness.run_phases(Path("bench_x.py"), ["dagrad", "torch"], options)
    assert started == ["dagrad", "torch", "torch", "torch", "dagrad", "dagrad", "torch"]  # torch rerun once
    assert [run.tries for run in runs["torch"]] == [2, 1, 1]
    assert all(run.quiet for lib_runs in runs.values() for run in lib_runs)
    assert logged[0] == "quiet" and logged[-1].startswith("bench_x: timed in")


def test_options_from_flags_read_the_load_limit_in_percent():
    import argparse

    parser = argparse.ArgumentParser()
    harness.add_options(parser)
    options = harness.options_from(parser.parse_args(["--max-load", "5", "--processes", "1"]))
    assert (options.max_load, options.processes, options.retries) == (0.05, 1, harness.RETRIES)
    assert options.max_slowdown == harness.MAX_SLOWDOWN
    assert options.speed_wait_s == harness.SPEED_WAIT_S
    assert harness.options_from(parser.parse_args(["--speed-wait", "0"])).speed_wait_s == 0
    assert (options.speed_record, options.forget_speed) == (harness.SPEED_RECORD, False)
    assert harness.options_from(parser.parse_args(["--forget-speed"])).forget_speed
    assert parser.parse_args(["--child", "torch"]).child == "torch"


# ---------------------------------------------------------------- the child's side
def test_time_case_counts_its_calls():
    calls, prepared = [], []
    result = harness.time_case(
        lambda: calls.append(1), budget_s=0.0, min_repeats=4, max_repeats=9, before_each=lambda: prepared.append(1),
        probe=None,
    )  # fmt: skip
    assert result["repeats"] == 4 and result["number"] == 1  # budget 0: the minimum of repeats
    assert len(calls) == 2 + 1 + 4  # warm-up, calibration, repeats
    assert len(prepared) == 4
    assert 0 <= result["best"] <= result["median"]


def test_time_case_probes_the_machine_between_repeats():
    probes = iter([1.0, 1.1, 3.0, 1.0, 1.2])
    result = harness.time_case(lambda: None, budget_s=0.0, min_repeats=4, max_repeats=4, warmup=0,
                               probe=lambda: next(probes))  # fmt: skip
    assert len(result["times"]) == 4
    assert result["probes"] == [1.1, 3.0, 3.0, 1.2]  # each repeat: the slower probe on either side


def test_usual_speed_leaves_out_the_repeats_the_machine_ran_slowed():
    result = {"best": 1.0, "median": 2.0, "repeats": 5, "number": 1,
              "times": [1.0, 1.1, 2.0, 2.1, 1.2], "probes": [1.0, 1.05, 1.7, 1.6, 1.1]}  # fmt: skip
    kept = harness.usual_speed(result, fastest=1.0, max_slowdown=0.25)
    assert kept == {"best": 1.0, "median": 1.1, "repeats": 5, "number": 1, "kept": 3}
    slowed = harness.usual_speed({**result, "probes": [1.7, 1.6, 1.7, 1.65, 1.1]}, fastest=1.0)
    assert slowed["median"] == 2.0 and slowed["kept"] == 5 and slowed["slowed"] == 1.65  # fewer than 3 at speed
    few = {"best": 1.0, "median": 1.5, "repeats": 2, "number": 1, "times": [1.0, 2.0], "probes": [1.0, 1.1]}
    assert harness.usual_speed(few, fastest=1.0)["median"] == 1.5  # all of fewer than 3: kept
    plain = {"best": 1.0, "median": 2.0, "repeats": 3}
    assert harness.usual_speed(plain, fastest=1.0) is plain


def test_time_case_batches_short_calls_into_repeats():
    calls = []
    result = harness.time_case(
        lambda: calls.append(1), budget_s=0.0, min_repeats=3, repeat_s=1e-3, warmup=0, probe=None
    )
    assert result["number"] > 1  # appending to a list takes far less than a millisecond
    assert result["repeats"] == 3


def test_child_report_prints_one_json_line_and_spreads_grouped_cases(capsys):
    one = {"best": 1.0, "median": 2.0, "repeats": 3}
    harness.child_report(
        "dagrad",
        {"step": lambda: one, "phase": lambda: {"forward": one, "backward": one}},
        check=[1.5],
        extra={"nodes": 7},
        info={"engine": "x 1.0"},
    )
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    report = json.loads(out)
    assert set(report["cases"]) == {"step", "phase forward", "phase backward"}
    assert report["check"] == [1.5] and report["extra"] == {"nodes": 7}
    assert report["info"]["engine"] == "x 1.0" and "numpy" in report["info"]
    assert 0.0 <= report["load"] <= 1.0
    assert len(report["probe"]) == 1 and report["probe"][0] > 0  # the child's fastest (no case was probed)


def test_child_report_leaves_out_slowed_repeats_and_reports_a_case_that_never_ran_at_speed(capsys, monkeypatch):
    monkeypatch.setattr(harness, "machine_probe", lambda repeats=15: 1.0)
    fast = {"best": 1.0, "median": 1.5, "repeats": 4, "number": 1, "times": [1.0, 2.0, 1.1, 1.2],
            "probes": [1.0, 1.7, 1.1, 1.0]}  # fmt: skip
    slow = {"best": 2.0, "median": 2.0, "repeats": 3, "number": 1, "times": [2.0, 2.0, 2.1],
            "probes": [1.7, 1.6, 1.65]}  # fmt: skip
    harness.child_report("dagrad", {"fast": lambda: fast, "slow": lambda: slow})
    report = json.loads(capsys.readouterr().out)
    assert report["cases"]["fast"] == {"best": 1.0, "median": 1.1, "repeats": 4, "number": 1, "kept": 3}
    assert report["cases"]["slow"]["slowed"] == 1.65
    assert report["probe"] == [1.0, 1.65]  # the parent sees a case slowed 1.65x: it reruns the child


def test_parse_child_output_takes_the_last_json_line():
    out = 'UserWarning: something\n{"load": 0.5}\nnot json {\n{"load": 0.01, "cases": {}}\n'
    assert harness.parse_child_output(out) == {"load": 0.01, "cases": {}}
    with pytest.raises(ValueError, match="no JSON report"):
        harness.parse_child_output("Traceback ...\n")


def test_run_child_starts_the_script_and_reports_a_failure_with_its_stderr(tmp_path):
    script = tmp_path / "bench_fake.py"
    script.write_text(
        "import json, sys\n"
        "if sys.argv[2] == 'bad':\n"
        "    sys.exit('the bad library is broken')\n"
        "print('warming up')\n"
        "print(json.dumps({'lib': sys.argv[2], 'extra': sys.argv[3:], 'load': 0.0}))\n"
    )
    assert harness.run_child(script, "good", ["--batch", "16"]) == {
        "lib": "good",
        "extra": ["--batch", "16"],
        "load": 0.0,
    }
    with pytest.raises(RuntimeError, match="the bad child failed") as failure:
        harness.run_child(script, "bad")
    assert "the bad library is broken" in str(failure.value)
