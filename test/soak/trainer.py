"""An outside trainer for the service soak (chaos.ts): study.optimize over a live `renorm-tune serve` with a quick
objective that sleeps through its steps and reports as a real one would.

usage: trainer.py URL STUDY LOG
Appends to LOG (shared by every trainer): `start NUMBER PID MS` when an objective begins, `told NUMBER PID STATE VALUE`
for every tell the server acknowledged (optimize's callback, with the trial as recorded), `end PID WHY` when the loop
ends. Search trials numbered 7 mod 11 raise RuntimeError half-way (caught: told failed, the loop goes on). Ctrl-C ends
the process quietly (exit 130) once optimize has handed its trial back.
"""
import math
import os
import sys
import time

from renorm_tune import Client, RenormTuneError

url, name, log_path = sys.argv[1:4]
STEPS, STEP_SECONDS, EVERY = 300, 0.01, 20


def log(line):
    with open(log_path, "a") as f:
        f.write("%s\n" % line)


def score(trial):
    """A smooth function of the schedule's numeric parameters, in (0, 1), plus a little per-seed noise."""
    xs = [v for v in (trial.params or {}).values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    bowl = sum((math.log1p(abs(x)) - 1.0) ** 2 for x in xs)
    noise = ((trial.seed * 2654435761) % 1000) / 1000.0 - 0.5
    return min(0.99, max(0.01, 0.9 - 0.05 * bowl + 0.01 * noise))


def objective(trial):
    log("start %d %d %d" % (trial.number, os.getpid(), int(time.time() * 1000)))
    final = score(trial)
    for step in range(1, STEPS + 1):
        time.sleep(STEP_SECONDS)
        if step == STEPS // 2 and trial.role == "search" and trial.number % 11 == 7:
            raise RuntimeError("the trainer's own failure at step %d" % step)
        if step % EVERY == 0:
            if study.report(trial, step, final * math.sqrt(step / STEPS)):
                return final * math.sqrt(step / STEPS)
            if trial.should_stop:
                return final
    return final


def told(_study, record):
    log("told %d %d %s %r" % (record["number"], os.getpid(), record["state"], record.get("value")))


try:
    # A Ctrl-C may come while the study is still being loaded (a trainer started late on a loaded machine): quiet too.
    for attempt in range(60):  # started while the server restarts: the soak's harness waits for it, a user would not
        try:
            study = Client(url).load_study(name)
            break
        except RenormTuneError as err:
            if err.code != "UNREACHABLE" or attempt == 59:
                raise
            time.sleep(0.5)
    study.optimize(objective, catch=(RuntimeError,), wait_seconds=0.5, callbacks=[told])
except KeyboardInterrupt:
    log("end %d interrupted" % os.getpid())
    sys.exit(130)
log("end %d done" % os.getpid())
