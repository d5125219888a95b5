"""renorm-tune's Python client: drive a study from your own PyTorch or Keras trainer over the ask/tell REST API.

One file, standard library only (Python 3.8+): copy it next to your trainer, import it from the npm package
(node_modules/renorm-tune/src/clients/python/renorm_tune.py), or pip-install that folder (its pyproject.toml).
PyTorch, Keras and TensorFlow are imported only by the parts that need them (BatchRenorm1d/2d/3d, SyncBatchRenorm,
on_rank_zero, convert_batchnorm, revert_batchnorm, apply_clipping, lightning_callback; BatchRenormalization,
keras_callback, keras_reporter, keras_convert_batchnorm for Keras 3; keras_clipping for tf.keras 2).

    from renorm_tune import Client, BatchRenorm2d, apply_clipping
    study = Client("http://127.0.0.1:8080").create_study("my-resnet", metric="top1", direction="maximize",
                                                         total_steps=20000, exist_ok=True)
    [trial] = study.ask()               # its schedule, a per-step table, renorm_momentum, a lease
    ...                                 # train, calling apply_clipping(model, trial, step) before each step
    study.report(trial, step, value)    # True: the pruner asks you to stop
    study.tell(trial, value)            # or study.tell(trial, failed="diverged")

or let the client run that loop, as Optuna's study.optimize does: study.optimize(objective), where
objective(trial) trains and returns the trial's value. Under torchrun (DistributedDataParallel) every rank calls it
and trains the same trials, while rank 0 alone talks to the server.

Trials are named by their number in the study (trial.number, shown as #n everywhere). The schedule of a trial is
applied through its table (rows {step, rmax, rmin, dmax} with every breakpoint), by linear interpolation: the
same numbers renorm-tune's own trainer uses, without re-implementing its ramp formulas here.
"""
import bisect
import contextlib
import datetime
import gc
import http.client
import itertools
import json
import logging
import math
import os
import random
import re
import socket
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings

# BatchRenorm1d/2d/3d, SyncBatchRenorm and BatchRenormalization are left out on purpose: `import *` would then need
# PyTorch or Keras. Import them by name.
__all__ = [
    "Client", "Study", "Trial", "RenormTuneError", "LeaseLost", "BudgetExhausted", "StudyStopped", "TrialNotRunning", "NotFound",
    "schedule_at", "apply_clipping", "renorm_modules", "convert_batchnorm", "revert_batchnorm", "on_rank_zero", "keras_clipping",
    "keras_callback", "keras_reporter", "keras_convert_batchnorm", "lightning_callback",
]

# renorm-tune's version this client comes with (package.json's; a test holds them equal), and the package's.
__version__ = "0.1.0"

# The header in which the server names its version (src/shared/names.ts, VERSION_HEADER).
_VERSION_HEADER = "Renorm-Tune-Version"
# What the server, and any proxy's access log, sees of this client: its version and the Python that runs it.
_USER_AGENT = "renorm-tune-client/%s (Python %d.%d)" % (__version__, sys.version_info[0], sys.version_info[1])

DEFAULT_URL = "http://127.0.0.1:8080"
_KEYS = ("rmax", "rmin", "dmax")
# A limit Keras's own renorm_clipping leaves out does not clip.
_UNCLIPPED = {"rmax": math.inf, "rmin": 0.0, "dmax": math.inf}
# How often `ask` repeats after 409 STALE_SNAPSHOT (contention between servers sharing one database).
_ASK_RETRIES = 5
# optimize's one try to hand back an interrupted trial: short, since someone pressed Ctrl-C and waits.
_HAND_BACK_SECONDS = 5.0
# How long a rank whose objective raised waits for the other ranks to come back from theirs, under optimize over a
# process group: they may wait in a collective it left (DDP's gradient all-reduce, a report). Then it tells the
# failure itself and ends, rather than hang with them until the process group's timeout (10 to 30 minutes).
_PEER_GRACE_SECONDS = 120.0
# What a rank that gives up waiting adds to the meeting's counter (_Ranks.meet): more than any number of ranks.
_LEFT = 1 << 30


_LOG = logging.getLogger("renorm_tune")


# ---- errors --------------------------------------------------------------------------------------------------

class RenormTuneError(Exception):
    """An error answer of the server: `code` (e.g. INVALID_TELL), `status` (HTTP), `field` (the request field at fault)."""

    def __init__(self, code, message, status=None, field=None):
        super().__init__(message)
        self.code, self.message, self.status, self.field = code, message, status, field
        self.refused = False  # UNREACHABLE only: the connection was refused (nothing listens on the port)
        self.never_sent = False  # UNREACHABLE only: the call never reached the server (no connection, or cut while sending)
        self.after_disconnect = False  # set by Client.request when this came after resending a call cut off or timed out: the first try may have landed

    def __reduce__(self):  # picklable whole (code, status, field), e.g. to cross processes in on_rank_zero
        return (type(self), (self.code, self.message, self.status, self.field), self.__dict__)


class LeaseLost(RenormTuneError):
    """409 LEASE_LOST: the trial's lease expired and was handed to someone else. Stop training it; its result would be refused."""


class BudgetExhausted(RenormTuneError):
    """409 BUDGET_EXHAUSTED: the study has used its budget. Stop asking (or `renorm-tune extend` it)."""


class StudyStopped(RenormTuneError):
    """409 STUDY_STOPPED: the study was stopped; no new trials until it is resumed. Trials already out may still report and tell."""


class TrialNotRunning(RenormTuneError):
    """409 TRIAL_NOT_RUNNING: a result or report, without a lease token, for a queued trial nobody was handed. Ask first: asks hand out queued trials."""


class NotFound(RenormTuneError):
    """404: no such study or trial."""


_ABSOLUTE = re.compile(r"\b(step|totalSteps)\b")
_BY_CODE = {"LEASE_LOST": LeaseLost, "BUDGET_EXHAUSTED": BudgetExhausted, "STUDY_STOPPED": StudyStopped, "TRIAL_NOT_RUNNING": TrialNotRunning, "NOT_FOUND": NotFound}


# ---- schedules -------------------------------------------------------------------------------------------------

def schedule_at(source, step, total_steps=None):
    """{rmax, rmin, dmax} at `step` of a run of `total_steps`, from an asked trial or an exported schedule.

    Time is relative: the trial's table (resolved for its own run length) is stretched to `total_steps`, so a
    schedule serves runs of any length. Without `total_steps`, the run length the table was made for. A formula
    over `step` or `totalSteps` counts absolute steps, so at another length it is refused (ValueError): ask for a
    trial of your run length instead.
    """
    if not hasattr(source, "get") or source.get("table") is None or source.get("totalSteps") is None:
        # A bare schedule ({"kind": "paper"}, an export's "schedule") holds no table: only its server resolves one.
        raise ValueError("schedule_at and apply_clipping take an asked trial or a whole export (with its \"table\" and "
                         "\"totalSteps\"), got %r: pass study.best_schedule() or the trial itself, not its \"schedule\""
                         % (source if not hasattr(source, "keys") else sorted(source.keys()),))
    table = source["table"]
    own = source["totalSteps"]
    total = own if total_steps is None else total_steps
    if not total or total <= 0:
        raise ValueError("total_steps must be a positive number of training steps")
    spec = source.get("schedule") or {}
    if total != own and spec.get("kind") == "formula" and any(_ABSOLUTE.search(str(spec.get(k, ""))) for k in ("rmax", "rmin", "dmax")):
        # A formula over step or totalSteps means absolute steps; its table holds for its own run length only.
        raise ValueError("this formula schedule counts absolute steps, and its table is for a run of %s steps, not %s: "
                         "ask with total_steps=%s (or export for that length) to get a table for your run" % (own, total, total))
    at = min(max(step / total, 0.0), 1.0) * own
    steps = [row["step"] for row in table] if not isinstance(source, Trial) else source._steps()
    i = bisect.bisect_right(steps, at)
    if i <= 0:
        return {k: table[0][k] for k in _KEYS}
    if i >= len(table):
        return {k: table[-1][k] for k in _KEYS}
    a, b = table[i - 1], table[i]
    w = (at - a["step"]) / (b["step"] - a["step"])
    return {k: a[k] + w * (b[k] - a[k]) for k in _KEYS}


# ---- the REST client ---------------------------------------------------------------------------------------------

class Trial(dict):
    """An asked trial, exactly as the server sent it (a dict), with attributes for what a trainer uses."""

    def __init__(self, fields=(), _study=None):
        super().__init__(fields)
        # The study that asked it (not a field: the dict stays what the server sent).
        self.__dict__["_study"] = _study

    number = property(lambda self: self["number"])
    schedule = property(lambda self: self["schedule"])
    table = property(lambda self: self["table"])
    total_steps = property(lambda self: self["totalSteps"])
    # How many times the study's run length this trial trains for: 1, or N for a final run at N times it (role
    # "final:best@x2"); total_steps already includes it. Scale a fit's epochs by it.
    steps_multiplier = property(lambda self: self.get("stepsMultiplier", 1))
    renorm_momentum = property(lambda self: self["renormMomentum"])
    params = property(lambda self: self["params"])
    seed = property(lambda self: self["seed"])
    role = property(lambda self: self["role"])
    # Evidence runs after the search: "validation" (search, race) or "test" (final runs: score them on your test set).
    evaluate_on = property(lambda self: self.get("evaluateOn", "validation"))
    # The lease token: report and tell send it, so a trainer whose lease was lost is refused (LeaseLost).
    token = property(lambda self: (self.get("lease") or {}).get("token"))
    # Set by optimize's heartbeat thread when the trial is no longer this trainer's to finish: its lease went to someone
    # else, or its study was deleted. An objective that reports rarely (or never) can check it and return early.
    # For a trial that optimize runs over a process group, a collective (rank 0's heartbeat is the one that knows): read
    # it at the same point on every rank, as a report, and every rank gets the same answer.
    stop_reason = property(lambda self: _through_lead(self, lambda: self.__dict__.get("_stop_reason")))

    should_stop = property(lambda self: self.stop_reason is not None)

    def clipping(self, step, total_steps=None):
        """{rmax, rmin, dmax} at `step` (see schedule_at)."""
        return schedule_at(self, step, total_steps)

    def _steps(self):
        cached = self.__dict__.get("_step_list")
        if cached is None:
            cached = self.__dict__["_step_list"] = [row["step"] for row in self["table"]]
        return cached


class Client:
    """A renorm-tune server. `url` defaults to $RENORM_TUNE_URL, else http://127.0.0.1:8080; `token` to $RENORM_TUNE_TOKEN;
    `ca_file` to $RENORM_TUNE_CA_FILE."""

    def __init__(self, url=None, token=None, timeout=60.0, retry_seconds=120.0, ask_seconds=2.0, ca_file=None):
        """`timeout`: seconds to wait for an answer. An ask waits `timeout + ask_seconds * count`: the server fits its
        model and optimises once per trial asked for, so a big ask takes longer (count 64 on a 400-trial study took
        45 s, over the default 60 s with the rest of a call); an ask given up on is sent again under its askId and
        gets the trials the first try handed out. Raise `ask_seconds` for studies of thousands of trials.

        `retry_seconds`: how long a call keeps retrying while the server answers 503 STORAGE_UNAVAILABLE (its
        database is away; nothing was written), or cannot be connected to after this client has reached it (a
        restart, or its host away: the call never arrived), so a database or server restart does not lose the tell
        of a long run; and, for a call safe to send twice, after a cut connection or a timeout (see request). 0:
        never.

        `ca_file`: for an https:// URL, the PEM file of the authority that issued the server's certificate (a
        private CA's, or the self-signed certificate itself), checked instead of the system's authorities. The
        certificate is always verified."""
        self.url = (url or os.environ.get("RENORM_TUNE_URL") or DEFAULT_URL).rstrip("/")
        if not re.match(r"https?://", self.url, re.I):  # urllib would say "unknown url type" at the first call
            raise ValueError("url must start with http:// or https://, got %r: e.g. Client(\"http://%s\") or RENORM_TUNE_URL=http://%s"
                             % (self.url, self.url, self.url))
        self.token = token if token is not None else os.environ.get("RENORM_TUNE_TOKEN")
        if self.token is not None and not isinstance(self.token, str):
            raise ValueError("token must be a string (the server's --token or --read-token), got a %s" % type(self.token).__name__)
        # A token read from a file ends in a newline, which no HTTP header may carry (urllib's error would print it).
        self.token = self.token.strip() if self.token else self.token
        self.ca_file = ca_file or os.environ.get("RENORM_TUNE_CA_FILE") or None
        self._tls = None
        if self.ca_file:
            try:
                self._tls = ssl.create_default_context(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as err:
                raise ValueError("ca_file %r cannot be used (%s): give the PEM file of the authority that issued the server's "
                                 "certificate (or the self-signed certificate), e.g. Client(ca_file=\"ca.pem\") or "
                                 "RENORM_TUNE_CA_FILE=ca.pem" % (self.ca_file, err)) from None
        _check_seconds("timeout", timeout, zero=False)
        _check_seconds("retry_seconds", retry_seconds)
        _check_seconds("ask_seconds", ask_seconds)
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.ask_seconds = ask_seconds
        self._reached = False  # has the server answered this client once? Then a refused connection is a restart.
        self._server_release = None  # the last renorm-tune release (major.minor) the server named in its Renorm-Tune-Version
        self._ask_ids = None  # False once the server refused an ask's askId (a server older than it)
        self._tell_metrics = None  # False once the server refused a tell's metrics (a server older than them)

    def request(self, method, path, body=None, timeout=None, retry_seconds=None, repeatable=None):
        """One API call; the parsed JSON answer, or a RenormTuneError (LeaseLost, BudgetExhausted, ... by code).

        503 STORAGE_UNAVAILABLE is retried with growing, jittered pauses (at most 10 s) for `retry_seconds`, with one
        line on stderr: the server wrote nothing, so the call is safe to repeat. So is a connection that could not be
        made (refused, timed out, no route) once the server has answered this client (it is restarting, or its host
        is away: the call never reached it); before that, it is a server that was never started or a wrong URL, said
        at once. A connection closed before the answer (DISCONNECTED: the server was killed or restarted mid-call),
        no answer in time (TIMEOUT), or 503 STORAGE_OUTCOME_UNKNOWN (the server lost its database after sending the
        change: it may have landed) is retried the same way only for a `repeatable` call, one whose second arrival
        changes nothing (every GET; a report, heartbeat, a named ask); an error that follows such a retry has
        ``after_disconnect`` set, since the first try may have landed. `timeout` and `retry_seconds`: this call's, instead of the client's.
        """
        repeatable = method == "GET" if repeatable is None else repeatable
        deadline = time.monotonic() + (self.retry_seconds if retry_seconds is None else retry_seconds)
        said, disconnected = False, False
        for attempt in itertools.count():
            try:
                return self._request_once(method, path, body, self.timeout if timeout is None else timeout)
            except RenormTuneError as err:
                err.after_disconnect = disconnected
                left = deadline - time.monotonic()
                restarting = err.code == "UNREACHABLE" and err.never_sent and self._reached
                cut = err.code in ("DISCONNECTED", "TIMEOUT", "STORAGE_OUTCOME_UNKNOWN") and repeatable
                if not (err.code == "STORAGE_UNAVAILABLE" or restarting or cut) or left <= 0:
                    raise
                disconnected = disconnected or cut
                if not said:
                    if cut and err.code == "STORAGE_OUTCOME_UNKNOWN":
                        why = "%s; sending it again is safe" % err.message
                    elif cut and err.code == "TIMEOUT":
                        why = "no answer from %s within %s s; sending it again is safe" % (self.url, round(self.timeout if timeout is None else timeout, 3))
                    elif cut:
                        why = "the server at %s closed the connection before answering (restarting?); sending it again is safe" % self.url
                    elif restarting and err.refused:
                        why = "the server at %s refuses connections (restarting?)" % self.url
                    elif restarting:
                        why = "cannot connect to the server at %s (%s: restarting, or its host unreachable?)" % (self.url, err.reason)
                    else:
                        why = err.message
                    sys.stderr.write("renorm-tune: %s %s: %s; retrying for up to %.0f s\n" % (method, path, why, left))
                    said = True
                time.sleep(min(left, random.uniform(0.5, 1.0) * min(10.0, 0.25 * 2 ** attempt)))

    def _request_once(self, method, path, body, timeout):
        data = None if body is None else json.dumps(_plain(body, "")).encode("utf-8")
        # Every POST and DELETE must declare JSON, with or without a body (the server's cross-site guard).
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": _USER_AGENT}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._tls) as res:
                raw = res.read()
            self._reached = True
            self._saw_version(res.headers.get(_VERSION_HEADER))
        except urllib.error.HTTPError as err:
            self._reached = True
            self._saw_version(err.headers.get(_VERSION_HEADER) if err.headers else None)
            try:
                e = json.loads(err.read().decode("utf-8"))["error"]
            except Exception:
                e = {"code": "HTTP_%d" % err.code, "message": str(err)}
            raise _BY_CODE.get(e.get("code"), RenormTuneError)(e.get("code"), e.get("message"), err.code, e.get("field")) from None
        except urllib.error.URLError as err:
            if isinstance(err.reason, ssl.SSLCertVerificationError):
                fix = "give Client(ca_file=...) or RENORM_TUNE_CA_FILE the PEM file of the authority that issued it (or the self-signed certificate)"
                unreachable = RenormTuneError("UNREACHABLE", "the TLS certificate of renorm-tune at %s was not verified (%s); %s"
                                              % (self.url, err.reason.verify_message or err.reason, fix))
            else:
                unreachable = RenormTuneError("UNREACHABLE", "cannot reach renorm-tune at %s (%s); start it with `npx renorm-tune serve`" % (self.url, err.reason))
            unreachable.refused = isinstance(err.reason, ConnectionRefusedError)
            # urllib raises URLError only while connecting or sending the request (never once it is sent whole): the
            # server did not get the call. A TLS failure is no passing outage, so it is not sent again.
            unreachable.never_sent = not isinstance(err.reason, ssl.SSLError)
            unreachable.reason = str(err.reason)
            raise unreachable from None
        except TimeoutError:  # socket.timeout: connected, but no answer in time (a slow ask on a large study)
            fix = "raise Client(ask_seconds=...) (each trial asked for adds that much to timeout); trials this ask handed out " \
                  "go to other trainers once their leases expire" if path.endswith("/ask") else "raise Client(timeout=...)"
            # The request was sent whole: a call that changes something may have taken effect without an answer.
            maybe = "" if method == "GET" else "; whether the call took effect is unknown (study.view() shows the trials)"
            raise RenormTuneError("TIMEOUT", "no answer from renorm-tune at %s within %s s (%s %s)%s; %s"
                                  % (self.url, round(timeout, 3), method, path, maybe, fix)) from None
        except (http.client.HTTPException, ConnectionError) as err:  # connected, then cut off: a server stopped mid-call
            raise RenormTuneError("DISCONNECTED", "renorm-tune at %s closed the connection before answering %s %s (%s): it may have "
                                  "stopped or restarted; whether the call took effect is unknown (study.view() shows the trials)"
                                  % (self.url, method, path, type(err).__name__)) from None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise RenormTuneError("NOT_JSON", "the answer of %s to %s %s is not JSON (it starts %r): is renorm-tune serving at this URL?"
                                  % (self.url, method, path, raw[:40])) from None

    def _saw_version(self, version):
        """Warns when the server names a renorm-tune release (major.minor) other than this client's: once, and again
        only if it changes (a server upgraded while a trainer runs)."""
        if not version or _release(version) == self._server_release:
            return
        self._server_release = _release(version)
        if self._server_release != _release(__version__):
            warnings.warn("renorm-tune at %s is version %s and this client is %s: calls the two do not share may be refused; "
                          "use the client that comes with the server (its src/clients/python/renorm_tune.py, or pip install "
                          "that folder)" % (self.url, version, __version__), stacklevel=5)

    def create_study(self, name, metric="valAccuracy", direction=None, total_steps=None, budget_trials=None,
                     bounds=None, space=None, seed=None, warm_start_from=None, exist_ok=False, **config):
        """An external study (your trainer runs the trials). With exist_ok, an existing study of that name is loaded
        instead, with its stored settings: any given here that differ from them are named in a warning."""
        # The study is external and its objective comes from metric/direction/bounds: the same keys given in `config`
        # (a study.json spread in) would be overwritten without a word, and the wrong metric tuned.
        for key, use in (("objective", "metric=, direction= and bounds="), ("executor", "nothing: a study made here is always external")):
            if key in config:
                raise ValueError("create_study takes no %r (got %r): give %s" % (key, config[key], use))
        body = dict(config, name=name, executor="external", objective={"metric": metric})
        for key, value in (("direction", direction), ("bounds", bounds)):
            if value is not None:
                body["objective"][key] = list(value) if key == "bounds" else value
        for key, value in (("totalSteps", total_steps), ("space", space), ("seed", seed), ("warmStartFrom", warm_start_from)):
            if value is not None:
                body[key] = value
        if budget_trials is not None:
            body["budget"] = dict(body.get("budget") or {}, trials=budget_trials)
        try:
            # With exist_ok it is safe to send again after a cut connection: a study the first try made is loaded.
            created = self.request("POST", "/api/studies", body, repeatable=exist_ok)
        except RenormTuneError as err:
            if err.code in ("DISCONNECTED", "TIMEOUT") and not exist_ok:
                err.message += "; create_study(..., exist_ok=True) is safe to send again: it loads the study if the first try made it"
                err.args = (err.message,)
            if not (exist_ok and err.code == "CONFLICT"):
                raise
            study, view = self._load(name)
            ignored = _differences({k: v for k, v in body.items() if k not in ("name", "warmStartFrom")}, view.get("config") or {}, "")
            if ignored:
                warnings.warn("study %r exists: loaded with its stored settings; ignored: %s (use another name to start afresh)"
                              % (name, "; ".join(ignored)), stacklevel=2)
            return study
        return Study(self, created["id"], created["name"])

    def load_study(self, study):
        """A study by its name or id."""
        return self._load(study)[0]

    def _load(self, study):
        """The study's handle and its view (one GET)."""
        view = self.request("GET", "/api/studies/" + _segment(study))
        return Study(self, view["id"], view["name"]), view

    def studies(self):
        """Summaries of every study (name, state, counts, best, baselines)."""
        return self.request("GET", "/api/studies")["studies"]


class Study:
    """One study on a server. Every method is one REST call."""

    def __init__(self, client, id, name):
        self.client, self.id, self.name = client, id, name

    def _path(self, tail=""):
        return "/api/studies/" + _segment(self.id) + tail

    def ask(self, count=1, total_steps=None):
        """Up to `count` trials (fewer near the end of the budget); BudgetExhausted when none is left. Waits up to
        Client.timeout + Client.ask_seconds * count for the answer.

        An empty list means other trainers hold the last runs (the last search trials, or evidence runs that wait for
        them): ask again a little later. Each ask carries a fresh askId, so that sent again after a cut connection or
        a timeout it gets the trials its first try handed out (see Client.request).
        """
        body = {"count": count}
        if total_steps is not None:
            body["totalSteps"] = total_steps
        # The ask's name: sent again after a connection cut mid-call, it gets the trials the first try handed out
        # (rather than new ones, the first try's held by nobody until their leases run out). A server older than
        # askId refuses the field: then asks go unnamed, and a cut ask is not sent again.
        named = self.client._ask_ids is not False
        if named:
            body["askId"] = uuid.uuid4().hex
        # 409 STALE_SNAPSHOT: other servers on the same database kept inserting trials while this ask retried;
        # nothing was handed out, so asking again is safe. A few tries with growing, jittered pauses.
        for attempt in range(_ASK_RETRIES + 1):
            try:
                answer = self.client.request("POST", self._path("/ask"), body, timeout=self.client.timeout + self.client.ask_seconds * count,
                                             repeatable=named)
                return [Trial(t, _study=self.id) for t in answer["trials"]]
            except RenormTuneError as err:
                if named and err.code == "INVALID_ASK" and err.field == "askId":
                    self.client._ask_ids, named = False, False
                    del body["askId"]
                    continue
                if err.code != "STALE_SNAPSHOT" or attempt == _ASK_RETRIES:
                    raise
                time.sleep(random.uniform(0.5, 1.0) * 0.05 * 2 ** attempt)

    def report(self, trial, step, value, metrics=None):
        """An intermediate value of the objective at `step`; True when the pruner asks the trial to stop. For a trial
        that optimize runs over a process group, a collective: every rank calls it, the first rank's value is sent."""
        return _through_lead(trial, lambda: self._report(trial, step, value, metrics))

    def _report(self, trial, step, value, metrics):
        body = _with_token(trial, {"step": step, "value": _finite(value, "report")})
        if metrics is not None:
            body["metrics"] = metrics
        # A step's first value is kept: the same report sent again changes nothing.
        answer = self.client.request("POST", self._trial(trial, "/report"), body, repeatable=True)
        if answer.get("ignored"):
            # The server kept the step's first value; a resent identical report says nothing.
            warnings.warn(answer["ignored"], stacklevel=3)
        return answer["prune"]

    def tell(self, trial, value=None, failed=None, metrics=None):
        """The trial's final value, or failed="why". Recorded PRUNED if the pruner had asked it to stop.

        `metrics`: the trial's final metrics, kept with it as a trainer's are (e.g. ``{"testAccuracy": 0.91, "device":
        "GPU"}``: the export's provenance and the dashboard read ``backend`` and ``device``). Every tell adds
        ``trainedBy``, this process as ``host:pid`` (unless `metrics` names one), which the dashboard's worker column
        and the CSV show; a server older than tells with metrics takes the tell without them (unless `metrics` was
        given: then its refusal is raised)."""
        if (value is None) == (failed is None):
            raise ValueError("tell a value or failed='reason', not both or neither")
        if metrics is not None and not isinstance(metrics, dict):
            raise ValueError("metrics must be a dict of the trial's final metrics, e.g. {\"testAccuracy\": 0.91}, got %r" % (metrics,))
        body = _with_token(trial, {"value": _finite(value, "tell")} if failed is None else {"failed": str(failed)})
        if metrics is not None or self.client._tell_metrics is not False:
            told = {"trainedBy": _trained_by()}
            told.update(metrics or {})
            body["metrics"] = told
        for _ in range(2):
            try:
                return self.client.request("POST", self._trial(trial, "/tell"), body, repeatable=True)["trial"]
            except RenormTuneError as err:
                # A server older than tells with metrics refuses the field: tell without them from now on.
                if metrics is None and "metrics" in body and err.code == "INVALID_TELL" and err.field == "metrics":
                    self.client._tell_metrics = False
                    del body["metrics"]
                    continue
                # Sent again after a cut connection, a tell that had landed is "already finished": if what is stored
                # is what this tell said, it was this tell.
                if err.code != "CONFLICT" or not getattr(err, "after_disconnect", False):
                    raise
                stored = self.trial(trial)
                if not _same_outcome(stored, body):
                    raise
                return stored

    def optimize(self, objective, n_trials=None, timeout=None, catch=(), wait_seconds=5.0, total_steps=None,
                 heartbeat_seconds=None, group=None, callbacks=None, gc_after_trial=False,
                 peer_grace_seconds=_PEER_GRACE_SECONDS):
        """Optuna's loop over this study: ask a trial, call ``objective(trial)``, tell what it returns. Ends when the
        budget is spent, the study is stopped, `n_trials` objectives have run in this call, or `timeout` seconds have
        passed (checked before each ask); returns the trials this call told, as the server recorded them.

        - The objective returns the trial's value. It reports intermediate values through ``study.report(trial, step,
          value)``, which answers True when the pruner asks the trial to stop: return the value reached, and the trial
          is recorded PRUNED.
        - Anything but a finite number returned (None, NaN, a bool, a string), or a value the study refuses (outside its
          bounds: a percentage for an accuracy), is told as failed, naming it; the loop goes on.
        - An exception in the objective is told as ``failed="<type>: <message>"`` and then raised again, unless it is
          an instance of a class in `catch` (e.g. ``catch=(RuntimeError,)``): then the loop goes on, as in Optuna.
        - KeyboardInterrupt (any BaseException that is not an Exception) hands the trial back (``release``: queued
          again at once for the next trainer) and is raised again. So does SIGTERM (a preempted machine, Slurm,
          Kubernetes, ``timeout``): while optimize runs on the main thread, and SIGTERM has its default action, it raises
          SystemExit(143) there (the previous action comes back when optimize returns).
        - LeaseLost from a report or the tell: the lease expired and the trial went to someone else; the loop goes on.
        - An empty ask (other trainers hold the last runs, and what comes next waits on them): wait `wait_seconds`
          and ask again.
        - While the objective runs, a background thread renews the trial's lease every `heartbeat_seconds` (default:
          a third of the lease's time left when it was asked, at most 10 minutes), so a long stretch without reports
          (an epoch of hours) does not lose it, while a trainer that dies loses it after the study's leaseSeconds.
        - `callbacks`: functions called as ``callback(study, trial)`` after each trial is told, with the trial as the
          server recorded it (as Optuna's: e.g. one that calls ``study.stop()`` once a value is good enough ends the
          loop); not after a trial whose exception ends the loop. `gc_after_trial=True` runs ``gc.collect()`` after
          each objective, for objectives whose reference cycles hold GPU memory.

        Under a running torch.distributed process group of more than one rank (`group`; the default group when None),
        e.g. DistributedDataParallel started by torchrun, every rank of the group calls optimize and trains the same
        trials; the group's first rank alone talks to the server (asks, renews the lease, tells). Inside the objective
        ``study.report`` is then a collective: every rank calls it at the same step, the first rank's value is sent,
        and every rank gets the same prune decision (or the same LeaseLost); so is ``trial.should_stop``. The first
        rank's return is told. An exception on any rank is told as failed (naming the rank when it is not the first),
        and ends the loop on every rank unless each rank that raised caught it by `catch`. A rank that raised waits at
        most `peer_grace_seconds` (2 minutes) for the others to come back from the objective: one may wait for good in
        a collective it left (DDP's gradient all-reduce). If they do not, it tells the trial failed itself and raises,
        caught or not, so that the launcher ends the job; a rank that comes back later raises RuntimeError. Raise it
        where a rank can spend longer than that between two collectives (a long evaluation on one rank only). Callbacks
        run on every rank, with the same trial (one that calls the server can wrap the call in on_rank_zero).
        `group=False`: this process alone runs the loop, as without a group (one rank tuning while the others do
        something else).
        """
        with _SigtermRaises():
            return self._optimize(objective, n_trials, timeout, catch, wait_seconds, total_steps, heartbeat_seconds, group,
                                  callbacks, gc_after_trial, peer_grace_seconds)

    def _optimize(self, objective, n_trials, timeout, catch, wait_seconds, total_steps, heartbeat_seconds, group,
                  callbacks, gc_after_trial, peer_grace_seconds):
        if not callable(objective):
            raise TypeError("objective must be a function objective(trial) returning the trial's value, got %r" % (objective,))
        if n_trials is not None and (not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1):
            raise ValueError("n_trials must be a positive whole number or None (until the budget is spent), got %r" % (n_trials,))
        _check_seconds("timeout", timeout, or_none=True)
        _check_seconds("wait_seconds", wait_seconds)
        _check_seconds("heartbeat_seconds", heartbeat_seconds, or_none=True)
        _check_seconds("peer_grace_seconds", peer_grace_seconds, zero=False)
        if catch is None or isinstance(catch, type):
            catch = () if catch is None else (catch,)
        callbacks = list(callbacks or ())
        for cb in callbacks:
            if not callable(cb):
                raise TypeError("callbacks must be a list of functions callback(study, trial), got %r in it" % (cb,))
        ranks = _Ranks(group, peer_grace_seconds)
        deadline = None if timeout is None else time.monotonic() + float(timeout)

        def next_trials():  # on the first rank: what the ask gave, or why the loop ends
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    return "the timeout (%g s) has passed" % timeout
                sent = time.monotonic()
                try:
                    trials = self.ask(total_steps=total_steps)
                except BudgetExhausted:
                    return "the study's budget is spent"
                except StudyStopped:
                    return "the study is stopped"
                # An answer that took a heartbeat's interval or more (a server stopped mid-ask, an ask sent again
                # after a cut) may hand on a trial whose lease ran out meanwhile and went to another trainer: renew
                # it before training it, rather than learn it at the first heartbeat.
                if not trials or time.monotonic() - sent < _heartbeat_interval(trials[0]):
                    return trials
                try:
                    self.heartbeat(trials[0])
                    return trials
                except LeaseLost as lost:
                    _going_on("trial #%s, answered after %.1f s: %s" % (trials[0].number, time.monotonic() - sent, lost.message), stacklevel=4)
                except RenormTuneError:
                    return trials  # the server is away for now: its lease may still hold

        def settle(trial, **outcome):  # on the first rank
            try:
                return self.tell(trial, **outcome)
            except LeaseLost as lost:
                _going_on(lost.message, stacklevel=4)
                return None
            except RenormTuneError as refused:
                # A value the study refuses (outside its bounds: a percentage for an accuracy) would leave the trial
                # RUNNING until its lease ran out: it is told failed with the server's reason, and the loop goes on.
                if refused.code != "INVALID_TELL" or "value" not in outcome:
                    raise
                _going_on("trial #%d: the objective returned %r, which the study refused (%s); told as failed"
                          % (trial.number, outcome["value"], refused.message), stacklevel=4)
                return self.tell(trial, failed=("the objective returned %r: %s" % (outcome["value"], refused.message))[:500])

        log = _progress_log() if ranks.is_lead else None
        told, ran, waiting, ended = [], 0, False, "n_trials=%s have run" % n_trials
        while n_trials is None or ran < n_trials:
            trials = ranks.lead(next_trials)
            if isinstance(trials, str):
                ended = trials
                break
            if not trials:
                if log and not waiting:
                    log.info("no trial to ask for now: other trainers hold the last runs, and what comes next waits on "
                             "them; asking again every %g s", wait_seconds)
                waiting = True
                time.sleep(wait_seconds if deadline is None else max(0.0, min(wait_seconds, deadline - time.monotonic())))
                continue
            trial, waiting, began = trials[0], False, time.monotonic()
            ran += 1
            if ranks.group is not None:
                trial.__dict__["_group"] = ranks.group  # makes study.report a collective (see report)
            mine, err = self._objective_outcome(objective, trial, heartbeat_seconds, catch, ranks)
            if gc_after_trial:
                gc.collect()
            # Lease tokens count from the start in every study: the study and number make the meeting's key unique.
            meeting = "renorm_tune/optimize/%s/%d/%s" % (self.id, trial.number, _token_of(trial))
            met = ranks.meet(meeting, waits=mine[0] == "raised")
            if met != "met":
                self._part(trial, mine, err, met, ranks)
            outcomes = ranks.gather(mine)
            ranks.parted(meeting)
            lost = next((o[1] for o in outcomes if o[0] == "lost"), None)
            if lost is not None:  # from a report, so on every rank: the trial is someone else's now
                if ranks.is_lead:
                    _going_on(lost, stacklevel=2)
                continue
            raised = [(ranks.ranks[i], o[1], o[2]) for i, o in enumerate(outcomes) if o[0] == "raised"]
            if raised:  # the first rank's words as they are; another's naming it
                at, why = raised[0][:2]
                outcome = {"failed": (why if at == ranks.ranks[0] else "rank %d: %s" % (at, why))[:500]}
            else:
                outcome = {"failed": outcomes[0][1][:500]} if outcomes[0][0] == "bad" else {"value": outcomes[0][1]}
            record = ranks.lead(lambda: settle(trial, **outcome))
            if record is not None:
                told.append(record)
                if log:
                    log.info("%s", _trial_line(record, time.monotonic() - began))
            uncaught = [r for r in raised if not r[2]]
            if uncaught:
                if err is not None and not mine[2]:
                    raise err
                raise RuntimeError("optimize: the objective raised on rank %d (%s); the trial was told failed, and every "
                                   "rank stops" % uncaught[0][:2])
            if record is not None:
                for cb in callbacks:
                    cb(self, record)
        if log:
            log.info("optimize ends: %s; %d trial%s told in this call", ended, len(told), "" if len(told) == 1 else "s")
        return told

    def _objective_outcome(self, objective, trial, heartbeat_seconds, catch, ranks):
        """Runs the objective on this rank: (("value", v) | ("bad", why) | ("lost", message) | ("raised", "Type: message",
        caught), the exception raised or None). A BaseException (Ctrl-C) hands the trial back (the first rank) and goes on up."""
        try:
            with (_Heartbeat(self, trial, heartbeat_seconds) if ranks.is_lead else _NO_HEARTBEAT):
                value = objective(trial)
        except LeaseLost as lost:
            return ("lost", lost.message), None
        except Exception as err:  # noqa: BLE001 - told as failed; raised again unless caught
            return ("raised", "%s: %s" % (type(err).__name__, err), isinstance(err, tuple(catch))), err
        except BaseException:
            # Ctrl-C, SystemExit: nothing to tell; hand the trial back so nobody waits for its lease to run out.
            # One short try: whoever pressed Ctrl-C is not kept waiting through the retries for a server that is away.
            if ranks.is_lead:
                try:
                    self.release(trial, timeout=_HAND_BACK_SECONDS)
                except Exception as err:  # noqa: BLE001
                    sys.stderr.write("renorm-tune: trial #%d was not handed back (%s); it returns to the queue when its "
                                     "lease expires\n" % (trial.number, getattr(err, "message", None) or err))
            raise
        try:
            return ("value", _finite(value, "tell")), None
        except (TypeError, ValueError):
            return ("bad", "the objective returned %r, not a finite number" % (value,)), None

    def _part(self, trial, mine, err, met, ranks):
        """Ends the loop on this rank when the ranks did not all come back from trial's objective (see _Ranks.meet):
        the rank that gave up waiting tells the trial failed itself, naming its rank; every rank raises."""
        me = sys.modules["torch.distributed"].get_rank()
        if met == "gave up":
            why = mine[1] if ranks.is_lead else "rank %d: %s" % (me, mine[1])
            try:
                self.tell(trial, failed=why[:500])
                told = "trial #%d was told failed from this rank" % trial.number
            except RenormTuneError as gone:
                told = "trial #%d could not be told failed (%s); its lease runs out" % (trial.number, gone.message)
            sys.stderr.write("renorm-tune: rank %d's objective raised (%s), and the other ranks did not come back from "
                             "theirs within %g s (they may wait in a collective this rank left: DDP's gradient "
                             "all-reduce, a report). %s, and the loop ends on this rank; the launcher (torchrun) stops "
                             "the others when this process exits\n" % (me, mine[1], ranks.grace, told))
            if err is not None and not mine[2]:
                raise err
            raise RuntimeError("optimize: rank %d's objective raised (%s) and the other ranks did not come back from "
                               "trial #%d's objective within %g s, so the loop cannot go on together; %s"
                               % (me, mine[1], trial.number, ranks.grace, told)) from err
        raise RuntimeError("optimize: another rank's objective raised and it left the loop, since rank %d did not come "
                           "back from trial #%d's objective within %g s; that rank told the trial failed, and every "
                           "rank stops" % (me, trial.number, ranks.grace)) from err

    def release(self, trial, timeout=None):
        """Hands back a trial you cannot finish (interrupted, preempted): it is queued again at once for the next ask,
        its reports dropped, no retry counted. Needs the lease: LeaseLost if it already expired or went to someone else.
        `timeout`: one attempt of at most that many seconds, no retries while the server is away (as optimize hands
        back an interrupted trial); default the client's timeout and retry_seconds."""
        try:
            return self.client.request("POST", self._trial(trial, "/release"), {"token": _lease_token(trial, "release")},
                                       timeout=timeout, retry_seconds=None if timeout is None else 0, repeatable=True)["trial"]
        except LeaseLost as err:
            # Sent again after a cut connection, a release that had landed finds its lease gone: the trial is back
            # in the queue (or out again under another token), which is what the release was for.
            if not err.after_disconnect:
                raise
            stored = self.trial(trial)
            if stored.get("state") != "WAITING" and (stored.get("lease") or {}).get("token") == _token_of(trial):
                raise
            return stored

    def heartbeat(self, trial):
        """Renews the trial's lease for the study's leaseSeconds from now, as a report does, for training that goes long
        without reporting (optimize does this for you); returns the lease. LeaseLost once it went to someone else."""
        return self.client.request("POST", self._trial(trial, "/heartbeat"), {"token": _lease_token(trial, "heartbeat")}, repeatable=True)["lease"]

    def enqueue(self, schedule, renorm_momentum=None):
        """Queue a schedule of your own (e.g. {"kind": "paper"}); the next ask hands it out first."""
        body = {"schedule": schedule}
        if renorm_momentum is not None:
            body["renormMomentum"] = renorm_momentum
        return self.client.request("POST", self._path("/enqueue"), body)["trial"]

    def extend(self, trials=None, time_minutes=None):
        """Raise the budget to these new totals."""
        body = {k: v for k, v in (("trials", trials), ("timeMinutes", time_minutes)) if v is not None}
        return self.client.request("POST", self._path("/extend"), body)["study"]

    def stop(self):
        return self.client.request("POST", self._path("/stop"), {})["study"]

    def resume(self):
        """Lift a stop: an external study takes asks again; a local one is resumed by its next `run` (also one
        started with --unless-stopped, as the systemd unit starts it)."""
        return self.client.request("POST", self._path("/resume"), {})["study"]

    def rename(self, name):
        """A new name (the id never changes); a name another study has is a RenormTuneError (409 CONFLICT)."""
        study = self.client.request("POST", self._path("/rename"), {"name": name})["study"]
        self.name = study["name"]
        return study

    def delete(self):
        """Deletes the study and all its trials, for good: {id, name, trials}. Trainers still holding its trials get
        NotFound from their next report or tell (optimize's heartbeat thread sets trial.should_stop at once)."""
        return self.client.request("DELETE", self._path())["deleted"]

    def view(self):
        """The whole study: state, counts, best, baselines and every trial (GET /api/studies/:id)."""
        return self.client.request("GET", self._path())

    def trial(self, trial):
        """One trial with its curve, by number or as asked (GET /api/studies/:id/trials/:number): e.g. its state,
        whether the pruner asked it to stop, or its value once told."""
        return self.client.request("GET", self._trial(trial, ""))["trial"]

    def best_schedule(self):
        """The export of the best schedule (its table works with schedule_at)."""
        return self.client.request("GET", self._path("/best-schedule"))

    def importance(self):
        """Which schedule parameters matter (GET /api/studies/:id/importance): with shares, ``{"available": True,
        "importance": {param: share}, "tentative": [param, ...], "observations": n, ...}``, largest first; a parameter
        listed in ``tentative`` has a share the trials do not yet need. Without shares, ``"available": False`` with
        ``status`` ("too-few-trials" or "flat") and ``reason``."""
        return self.client.request("GET", self._path("/importance"))

    def _trial(self, trial, tail):
        number = trial if isinstance(trial, int) else trial["number"]
        # Trial numbers and lease tokens both count from the start in every study: a trial told through another
        # study's handle would finish that study's trial of the same number.
        asked_from = trial.__dict__.get("_study") if isinstance(trial, Trial) else None
        if asked_from is not None and asked_from != self.id:
            raise ValueError("trial #%d was asked from study %s, not from %s (%s): tell it through the study that asked it"
                             % (number, asked_from, self.name, self.id))
        return self._path("/trials/%d%s" % (number, tail))


def _same_outcome(stored, told):
    """Whether a stored trial is what the tell body `told` would have made of it (PRUNED too, for a value: the pruner
    had asked it to stop)."""
    if "failed" in told:
        return stored.get("state") == "FAIL" and stored.get("failureReason") == told["failed"]
    return stored.get("state") in ("COMPLETE", "PRUNED") and stored.get("value") == told["value"]


def _going_on(lost, stacklevel):
    """optimize's warning for a trial it could not tell as it ended (its lease lost at a report or the tell, its value
    refused): `lost` says why, in the server's words."""
    warnings.warn("%s (optimize goes on with the next trial)" % lost, stacklevel=stacklevel + 1)


def _progress_log():
    """The "renorm_tune" logger, where optimize says each trial's end at INFO. Where nothing configured logging (no
    handler on it or on the root logger, no level set), its lines go to stderr, as Optuna's do; silence them with
    logging.getLogger("renorm_tune").setLevel(logging.WARNING)."""
    if _LOG.level == logging.NOTSET and not _LOG.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[renorm-tune %(asctime)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
        _LOG.addHandler(handler)
        _LOG.setLevel(logging.INFO)
    return _LOG


def _trial_line(record, seconds):
    """`trial #7 (search) COMPLETE: 0.9123 in 2m 03s`, or FAIL with its reason."""
    state, value = record.get("state"), record.get("value")
    told = "" if value is None else ": %.6g" % value
    if state == "FAIL":
        told = " (%s)" % (record.get("failureReason") or "no reason given")
    if seconds < 60:
        took = "%.1f s" % seconds
    elif seconds < 3600:
        took = "%dm %02ds" % divmod(int(seconds), 60)
    else:
        took = "%dh %02dm" % divmod(int(seconds) // 60, 60)
    return "trial #%s (%s) %s%s in %s" % (record.get("number"), record.get("role"), state, told, took)


def _token_of(trial):
    """The lease token of a trial as ask returned it; None for a bare number (or a trial asked without a lease)."""
    return None if isinstance(trial, int) else (trial.get("lease") or {}).get("token")


def _lease_token(trial, verb):
    token = _token_of(trial)
    if token is None:
        raise ValueError("%s needs the trial as ask returned it (with its lease token), not a bare number" % verb)
    return token


class _SigtermRaises:
    """While optimize runs: SIGTERM, when it has its default action and this is the main thread, raises SystemExit(143)
    where the loop is, so the trial in training is handed back as on Ctrl-C. By default SIGTERM ends the process at
    once, and the trial stayed RUNNING until its lease ran out (an hour by default for outside trainers). A handler
    the program installed itself is left alone."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
            try:
                if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                    self.previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
            except (ValueError, OSError):
                self.previous = None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


class _Heartbeat:
    """Renews a trial's lease from a daemon thread while the objective trains it (as Optuna's heartbeat thread does)."""

    def __init__(self, study, trial, seconds=None):
        self.study, self.trial = study, trial
        self.seconds = _heartbeat_interval(trial) if seconds is None else max(0.05, float(seconds))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="renorm-tune heartbeat #%s" % trial.get("number"), daemon=True)

    def _beat(self):
        while not self.stopped.wait(self.seconds):
            try:
                self.study.heartbeat(self.trial)
            except (LeaseLost, NotFound) as gone:
                # Gone to someone else, or the study deleted: trial.should_stop says so at once; its next report or
                # its tell would say it too.
                if isinstance(self.trial, Trial):
                    self.trial.__dict__["_stop_reason"] = gone.message
                return
            except RenormTuneError:
                continue  # the server is away for now; the lease may still outlive the outage

    def __enter__(self):
        if _token_of(self.trial) is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=1.0)
        return False


def _heartbeat_interval(trial):
    """A third of the lease's length, between 1 s and 10 minutes. The length is the lease's `seconds`; an older server
    sends only `expiresAt`, by its own clock, so the time left is then read against this machine's clock, which may be
    minutes off."""
    lease = trial.get("lease") if isinstance(trial, dict) else None
    seconds = lease.get("seconds") if isinstance(lease, dict) else None
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
        left = float(seconds)
    else:
        try:
            expires = datetime.datetime.fromisoformat(lease["expiresAt"].replace("Z", "+00:00"))
            left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        except (KeyError, TypeError, ValueError, AttributeError):
            left = 60.0
    return min(600.0, max(1.0, left / 3.0))


def _release(version):
    """'0.1' of '0.1.3': releases that differ here may differ in their API (0.x moves its minor version for that)."""
    return ".".join(str(version).split(".")[:2])


def _check_seconds(name, value, or_none=False, zero=True):
    """An optimize argument that is a duration: a finite number of seconds (0 allowed where `zero`), or None where
    `or_none`; anything else is a ValueError naming it, before anything is asked."""
    if value is None and or_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    if not ok or (value == 0 and not zero):
        raise ValueError("%s must be a number of seconds (%s)%s, got %r" % (
            name, "0 or more" if zero else "more than 0", ", or None" if or_none else "", value))


def _finite(value, verb):
    """A number JSON can carry (numpy and torch scalars included); a diverged run is told as failed, not as NaN.
    A bool (a report's prune answer returned by mistake) or a string is refused, not read as 1.0 or parsed."""
    if isinstance(value, (bool, str, bytes)) or type(value).__name__ == "bool_" or str(getattr(value, "dtype", "")) == "torch.bool":
        raise TypeError("cannot %s %r: give the metric as a number (a bool or a string is not one)" % (verb, value))
    v = float(value)
    if not math.isfinite(v):
        raise ValueError("cannot %s a value of %r: tell a diverged run as failed, e.g. study.tell(trial, failed=\"loss became %r\")"
                         % (verb, v, v))
    return v


def _plain(value, where):
    """`value` as JSON carries it: numpy and torch scalars (`.item()`) as numbers, anywhere in a body (a report's step or
    metrics); a NaN or infinity is refused before it is sent, naming where it is (json.dumps would send invalid JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v, "%s.%s" % (where, k) if where else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, "%s[%d]" % (where, i)) for i, v in enumerate(value)]
    if value is not None and not isinstance(value, (str, int, float)) and callable(getattr(value, "item", None)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("%s: must be a finite number, got %r (JSON cannot carry it): send a finite number, or leave it out" % (where or "body", value))
    return value


def _differences(given, stored, where):
    """The fields of `given` whose value `stored` does not hold, as `path (stored X, given Y)`; a field `given` leaves
    out is not compared (the stored config has every default filled in)."""
    if isinstance(given, dict) and isinstance(stored, dict):
        out = []
        for k, v in given.items():
            out += _differences(v, stored.get(k), "%s.%s" % (where, k) if where else k)
        return out
    if isinstance(given, tuple):
        given = list(given)
    return [] if given == stored else ["%s (stored %s, given %s)" % (where, json.dumps(stored), json.dumps(given))]


def _trained_by():
    """Who tells, as a tell's metrics name it (`trainedBy`): this machine and process, as a worker's lease names it."""
    return "%s:%d" % (socket.gethostname(), os.getpid())


def _with_token(trial, body):
    token = _token_of(trial)
    if token is not None:
        body["token"] = token
    return body


def _segment(ref):
    return urllib.parse.quote(str(ref), safe="")


# ---- PyTorch ---------------------------------------------------------------------------------------------------

def _batch_statistics(torch, x):
    """Each channel's (dimension 1's) mean and biased variance over every other dimension: by BatchNorm's own
    statistics kernel where torch exposes it (on a CPU 4x faster than var_mean over NCHW), else by var_mean, also
    when the kernel refuses this tensor's dtype or device (torch 2.11 on CUDA takes float16 and bfloat16 and returns
    float32 statistics; a CPU returns bfloat16 ones, which the layer widens)."""
    stats = getattr(torch, "batch_norm_update_stats", None)
    if stats is not None:
        try:
            return stats(x, None, None, 0.0)
        except (RuntimeError, NotImplementedError):
            pass
    var, mean = torch.var_mean(x, dim=[0] + list(range(2, x.dim())), correction=0)
    return mean, var


_LAYERS = ("BatchRenorm1d", "BatchRenorm2d", "BatchRenorm3d", "SyncBatchRenorm")


def _define_layers():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class _BatchRenorm(nn.Module):
        """Batch Renormalization (Ioffe 2017) over dimension 1 (channels), Keras renorm=True semantics (and
        renorm-tune's own layer's). `momentum` and `renorm_momentum` are Keras': the weight of the old value (0.99),
        not PyTorch's weight of the new one (0.1).

        With the batch's mean and std, y = gamma * ((x - mean) / std * r + d) + beta, r and d held constant for
        backprop. That is batch normalization by the batch's statistics with weight gamma * r and bias
        gamma * d + beta, so the normalization runs as one fused `F.batch_norm` (cuDNN's on a GPU): it keeps only
        what BatchNorm keeps for backprop, not each step of the formula.
        """

        _input_dims = ()

        def __init__(self, channels, momentum=0.99, renorm_momentum=0.99, eps=1e-3):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))
            for name, init in [("moving_mean", 0.0), ("moving_var", 1.0), ("moving_std", 1.0),
                               ("renorm_mean", 0.0), ("renorm_std", 1.0)]:
                self.register_buffer(name, torch.full((channels,), init))
            # The clipping limits are tensors changed in place, so that a torch.compile'd model reads each step's
            # limits as data: as Python floats they would be constants of the compiled graph, recompiled whenever the
            # schedule moves. Not saved with the model (the schedule sets them); plain BatchNorm until set_clipping.
            for name, init in (("clip_rmax", 1.0), ("clip_rmin", 1.0), ("clip_dmax", 0.0)):
                self.register_buffer(name, torch.tensor(init), persistent=False)
            self.momentum, self.renorm_momentum, self.eps = momentum, renorm_momentum, eps

        def set_clipping(self, rmax, rmin, dmax):
            with torch.no_grad():
                self.clip_rmax.fill_(rmax)
                self.clip_rmin.fill_(rmin)
                self.clip_dmax.fill_(dmax)

        rmax = property(lambda self: float(self.clip_rmax))
        rmin = property(lambda self: float(self.clip_rmin))
        dmax = property(lambda self: float(self.clip_dmax))

        def _check_rank(self, x):
            if x.dim() not in self._input_dims:
                raise ValueError("%s takes %s-D input (got %d-D, shape %s)" % (
                    type(self).__name__, " or ".join(map(str, self._input_dims)), x.dim(), tuple(x.shape)))

        def _eval(self, x):
            return F.batch_norm(x, self.moving_mean, self.moving_var, self.weight, self.bias, False, 0.0, self.eps)

        def _renorm(self, mean, var, moved=None):
            """r and d for a batch of this mean and biased variance (in the buffers' dtype); moves the statistics, by
            `moved` (a 1-element tensor, 0 or 1) times the momenta' steps when given."""
            with torch.no_grad():  # r, d and the statistics' updates are constants for backprop
                # Each line is one or two kernels on tiny per-channel tensors; on a GPU their launches are most of the
                # layer's cost beyond BatchNorm's, so updates run in place (lerp_: old + (1 - momentum) * (new - old)).
                std = (var + self.eps).sqrt_()
                denom = self.renorm_std.clamp(min=self.eps ** 0.5)
                r = (std / denom).clamp_(self.clip_rmin, self.clip_rmax)
                d = (mean - self.renorm_mean).div_(denom).clamp_(-self.clip_dmax, self.clip_dmax)
                step, renorm_step = 1 - self.momentum, 1 - self.renorm_momentum
                if moved is not None:
                    step, renorm_step = moved * step, moved * renorm_step
                self.renorm_mean.lerp_(mean, renorm_step)
                self.renorm_std.lerp_(std, renorm_step)
                self.moving_mean.lerp_(mean, step)
                self.moving_std.lerp_(std, step)
                self.moving_var.copy_(self.moving_std.square().sub_(self.eps).clamp_(min=0))
                return r, d

        def forward(self, x):
            self._check_rank(x)
            if not self.training or x.numel() == 0:
                # An empty batch (a detection head's step without boxes) has no statistics: as BatchNorm, an empty
                # output and nothing moved (BatchNorm's statistics kernel would divide by zero and kill the process).
                return self._eval(x)
            with torch.no_grad():
                # In the buffers' dtype: a CPU kernel returns a bfloat16 batch's statistics in bfloat16.
                mean, var = (s.to(self.renorm_mean.dtype) for s in _batch_statistics(torch, x))
            r, d = self._renorm(mean, var)
            # Training mode with no running buffers: normalized by this batch's mean and biased variance, as above.
            return F.batch_norm(x, None, None, self.weight * r, torch.addcmul(self.bias, self.weight, d), True, 0.0, self.eps)

    class BatchRenorm1d(_BatchRenorm):
        """Batch renorm over (N, C) or (N, C, L), where BatchNorm1d goes."""
        _input_dims = (2, 3)

    class BatchRenorm2d(_BatchRenorm):
        """Batch renorm over NCHW, where BatchNorm2d goes."""
        _input_dims = (4,)

    class BatchRenorm3d(_BatchRenorm):
        """Batch renorm over NCDHW, where BatchNorm3d goes."""
        _input_dims = (5,)

    def _wide(x):
        """float64 for sums sent between ranks (MPS has none): a variance recovered from sums of squares loses digits
        as mean^2 / var grows, so float32 would lose them where the mean dwarfs the spread."""
        return torch.float32 if x.device.type == "mps" else torch.float64

    class _SyncRenorm(torch.autograd.Function):
        """y = gamma * ((x - mean) / std * r + d) + beta by the group's mean and std, r and d held constant: batch norm
        with weight gamma * r and bias gamma * d + beta, so the forward pass is one fused F.batch_norm (in eval form,
        given the statistics) and the backward pass batch norm's, with its two per-channel sums taken over the group:
        one all-reduce of 2C numbers, as torch's SyncBatchNorm does. Keeps only x for backprop."""

        @staticmethod
        def forward(ctx, x, weight, bias, mean, var, count, r, d, eps, group):
            w, b = weight * r, torch.addcmul(bias, weight, d)
            mean, var = mean.to(w.dtype), var.to(w.dtype)
            ctx.save_for_backward(x, weight, mean, (var + eps).rsqrt(), r, d, count)
            ctx.group = group
            return F.batch_norm(x, mean, var, w, b, False, 0.0, eps)

        @staticmethod
        def backward(ctx, dy):
            x, weight, mean, invstd, r, d, count = ctx.saved_tensors
            dims = [0] + list(range(2, x.dim()))
            shape = (1, -1) + (1,) * (x.dim() - 2)
            sum_dy = dy.sum(dim=dims, dtype=invstd.dtype)
            sum_dy_xhat = ((dy * x).sum(dim=dims, dtype=invstd.dtype) - mean * sum_dy) * invstd
            dweight = r * sum_dy_xhat + d * sum_dy if ctx.needs_input_grad[1] else None
            dbias = sum_dy if ctx.needs_input_grad[2] else None
            dx = None
            if ctx.needs_input_grad[0]:
                # The gradient through the group's mean and std needs the group's sums: every rank that has an x to
                # differentiate runs this all-reduce (as every rank does the forward one).
                sums = torch.cat([sum_dy, sum_dy_xhat]).to(_wide(x))
                torch.distributed.all_reduce(sums, group=ctx.group)
                c = x.shape[1]
                mean_dy, mean_dy_xhat = (sums[:c] / count).to(invstd.dtype), (sums[c:] / count).to(invstd.dtype)
                # dx = k * (dy - mean_dy - xhat * mean_dy_xhat), k = gamma * r / std: dy * k + x * m + c0 per channel.
                k = weight * r * invstd
                m = -k * invstd * mean_dy_xhat
                c0 = k * (mean * invstd * mean_dy_xhat - mean_dy)
                dx = torch.addcmul(c0.to(x.dtype).view(shape), x, m.to(x.dtype).view(shape))
                dx.addcmul_(dy, k.to(dy.dtype).view(shape))
            return dx, dweight, dbias, None, None, None, None, None, None, None

    class SyncBatchRenorm(_BatchRenorm):
        """Batch renorm by the statistics of the whole batch across the processes of a group (every rank of
        torch.distributed's default group unless `process_group` is given), where torch's SyncBatchNorm goes: the
        mean and variance that normalize, set r and d, and move the moving statistics are those of all ranks' samples
        together, and gradients flow through them to every rank's input. One all-reduce per layer each way, of 2C + 1
        numbers forward and 2C backward, over any backend (gloo on CPUs, NCCL on GPUs); ranks may hold different batch
        sizes. Outside a process group of more than one rank, and in eval mode, it is the plain layer. Takes (N, C, ...)
        input."""

        _input_dims = (2, 3, 4, 5)

        def __init__(self, channels, momentum=0.99, renorm_momentum=0.99, eps=1e-3, process_group=None):
            super().__init__(channels, momentum=momentum, renorm_momentum=renorm_momentum, eps=eps)
            self.process_group = process_group

        def forward(self, x):
            group = _running_group(self.process_group) if self.training else None
            if group is None:
                return super().forward(x)
            self._check_rank(x)
            mean, var, count = self._group_statistics(x, group)
            dtype = self.renorm_mean.dtype
            # When every rank's batch is empty (a detection head's step without boxes anywhere), nothing moves: the
            # steps of the momenta times 0, as the count says without a GPU sync to ask it.
            r, d = self._renorm(mean.to(dtype), var.to(dtype), moved=count.clamp(max=1).to(dtype))
            return _SyncRenorm.apply(x, self.weight, self.bias, mean, var, count, r, d, self.eps, group)

        def _group_statistics(self, x, group):
            """The group's mean, biased variance and count (float64 tensors: reading one would wait for the GPU). Each
            rank sends its count n, n * mean and n * (var + mean^2), the sums of its values and of their squares (see
            _wide)."""
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                if n > 0:
                    mean, var = _batch_statistics(torch, x)
                else:  # an empty batch on this rank still joins the all-reduces, with nothing to add
                    mean = var = x.new_zeros(x.shape[1], dtype=torch.float32)
                mean, var = mean.to(_wide(x)), var.to(_wide(x))
                total = torch.cat([mean.new_full((1,), n), n * mean, n * (var + mean * mean)])
                torch.distributed.all_reduce(total, group=group)
            c = x.shape[1]
            count = total[:1]
            at_least_one = count.clamp(min=1)  # an empty group's statistics: 0 and 0, not NaN (they then move nothing)
            group_mean = total[1:1 + c] / at_least_one
            return group_mean, (total[1 + c:] / at_least_one - group_mean * group_mean).clamp_(min=0), count

    return {"BatchRenorm1d": BatchRenorm1d, "BatchRenorm2d": BatchRenorm2d, "BatchRenorm3d": BatchRenorm3d,
            "SyncBatchRenorm": SyncBatchRenorm}


def _layer_class(name):
    # Built once, on first use, so `import renorm_tune` works (and stays fast) without PyTorch.
    if name not in globals():
        globals().update(_define_layers())
    return globals()[name]


def __getattr__(name):
    if name in _LAYERS:
        return _layer_class(name)
    if name in _KERAS_LAYERS:
        return _keras_layer_class(name)
    raise AttributeError("module 'renorm_tune' has no attribute %r" % name)


def convert_batchnorm(module, renorm_momentum=0.99, sync=False, process_group=None, _path=""):
    """Returns `module` with every torch BatchNorm1d/2d/3d in it replaced by the matching BatchRenorm, as
    torch.nn.SyncBatchNorm.convert_sync_batchnorm does: a BatchNorm itself comes back as a new layer, anything else
    is changed in place. Each new layer takes over its BatchNorm's weights, eps, momentum (converted to Keras' sense,
    1 - PyTorch's) and running statistics, which also start the renorm statistics, so in eval mode, and in training
    until apply_clipping relaxes the limits, the model computes what it did. `renorm_momentum` is the trial's (the
    study tunes it; 0.99 otherwise). A torch SyncBatchNorm becomes a SyncBatchRenorm over its process group; with
    sync=True every BatchNorm does, over `process_group` (torch.distributed's default group when None), and so does
    every BatchRenorm1d/2d/3d, with all its state (a model built with batch renorm, made to normalize across
    processes). A BatchNorm that cannot carry over is a ValueError naming it."""
    import torch
    from torch import nn

    kinds = {nn.BatchNorm1d: "BatchRenorm1d", nn.BatchNorm2d: "BatchRenorm2d", nn.BatchNorm3d: "BatchRenorm3d",
             nn.SyncBatchNorm: "SyncBatchRenorm"}
    where = _path or type(module).__name__
    if sync and type(module) in [_layer_class(name) for name in _LAYERS[:3]]:
        layer = _layer_class("SyncBatchRenorm")(module.weight.numel(), momentum=module.momentum, eps=module.eps,
                                                 renorm_momentum=module.renorm_momentum, process_group=process_group)
        layer = layer.to(device=module.moving_mean.device, dtype=module.moving_mean.dtype)
        layer.load_state_dict(module.state_dict())
        with torch.no_grad():
            for name in ("clip_rmax", "clip_rmin", "clip_dmax"):  # not in a state_dict: the schedule's, set by now
                getattr(layer, name).copy_(getattr(module, name))
        layer.weight.requires_grad_(module.weight.requires_grad)
        layer.bias.requires_grad_(module.bias.requires_grad)
        return layer.train(module.training)
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        kind = kinds.get(type(module))
        if kind is None:
            raise ValueError("%s (%s): only BatchNorm1d, BatchNorm2d, BatchNorm3d and SyncBatchNorm convert; convert "
                             "the model before initializing it (LazyBatchNorm)" % (where, type(module).__name__))
        if not module.track_running_stats or module.running_mean is None:
            raise ValueError("%s: track_running_stats=False normalizes by the batch in eval mode too; batch renorm needs "
                             "the moving statistics, so build it with track_running_stats=True" % where)
        if module.momentum is None:
            raise ValueError("%s: momentum=None (a cumulative average) has no batch renorm equivalent; give it a "
                             "momentum such as 0.1 before converting" % where)
        bn = module
        args = dict(momentum=1.0 - bn.momentum, renorm_momentum=renorm_momentum, eps=bn.eps)
        if kind == "SyncBatchRenorm" or sync:
            group = bn.process_group if kind == "SyncBatchRenorm" else process_group
            layer = _layer_class("SyncBatchRenorm")(bn.num_features, process_group=group, **args)
        else:
            layer = _layer_class(kind)(bn.num_features, **args)
        layer = layer.to(device=bn.running_mean.device, dtype=bn.running_mean.dtype)
        with torch.no_grad():
            if bn.affine:
                layer.weight.copy_(bn.weight)
                layer.bias.copy_(bn.bias)
            else:  # a BatchNorm without its own scale and shift: the converted one keeps them at 1 and 0
                layer.weight.requires_grad_(False)
                layer.bias.requires_grad_(False)
            std = torch.sqrt(bn.running_var + bn.eps)
            layer.moving_mean.copy_(bn.running_mean)
            layer.moving_var.copy_(bn.running_var)
            layer.moving_std.copy_(std)
            layer.renorm_mean.copy_(bn.running_mean)
            layer.renorm_std.copy_(std)
        return layer.train(bn.training)
    return _swap_children(module, lambda child, name: convert_batchnorm(
        child, renorm_momentum, sync, process_group, "%s.%s" % (_path, name) if _path else name))


def revert_batchnorm(module):
    """convert_batchnorm's inverse, for a trained model: every BatchRenorm1d/2d/3d in `module` becomes the torch
    BatchNorm1d/2d/3d that computes the same in eval mode (its running statistics the moving ones; the weights, eps,
    and momentum in PyTorch's sense), so tools that know only BatchNorm take the model: conv-BN folding, quantization,
    ONNX or TensorRT export. A layer whose scale and shift are frozen at 1 and 0 (converted from affine=False) becomes
    affine=False. A SyncBatchRenorm becomes a torch SyncBatchNorm over its process group. Trained further, the result
    is plain BatchNorm. Changes `module` in place and returns it; a BatchRenorm itself comes back as a new layer."""
    import torch
    from torch import nn

    kinds = {_layer_class("BatchRenorm1d"): nn.BatchNorm1d, _layer_class("BatchRenorm2d"): nn.BatchNorm2d,
             _layer_class("BatchRenorm3d"): nn.BatchNorm3d, _layer_class("SyncBatchRenorm"): nn.SyncBatchNorm}
    kind = kinds.get(type(module))
    if kind is not None:
        w, b = module.weight, module.bias
        frozen = not w.requires_grad and not b.requires_grad and bool((w == 1).all()) and bool((b == 0).all())
        group = {"process_group": module.process_group} if kind is nn.SyncBatchNorm else {}
        bn = kind(w.numel(), eps=module.eps, momentum=1.0 - module.momentum, affine=not frozen, **group)
        bn = bn.to(device=module.moving_mean.device, dtype=module.moving_mean.dtype)
        with torch.no_grad():
            if not frozen:
                bn.weight.copy_(w)
                bn.bias.copy_(b)
                bn.weight.requires_grad_(w.requires_grad)
                bn.bias.requires_grad_(b.requires_grad)
            bn.running_mean.copy_(module.moving_mean)
            bn.running_var.copy_(module.moving_var)
        return bn.train(module.training)
    return _swap_children(module, lambda child, _: revert_batchnorm(child))


def _swap_children(module, swap):
    """Puts swap(child, name) in each child's place where it returns another module; returns `module`."""
    for name, child in module.named_children():
        new = swap(child, name)
        if new is not child:
            setattr(module, name, new)
    return module


def renorm_modules(model):
    """Every BatchRenorm1d/2d/3d of a torch model (or anything with a set_clipping method)."""
    return [m for m in model.modules() if callable(getattr(m, "set_clipping", None))]


def apply_clipping(model, source, step, total_steps=None):
    """Sets the trial's (or export's) clipping at `step` on every BatchRenorm of `model`; returns how many it set.
    `model` may also be the list renorm_modules(model) gave: called every step, that saves walking the model each time
    (0.19 -> 0.08 ms per call for a ResNet-18 on a CPU)."""
    c = schedule_at(source, step, total_steps)
    modules = model if isinstance(model, (list, tuple)) else renorm_modules(model)
    for m in modules:
        m.set_clipping(c["rmax"], c["rmin"], c["dmax"])
    return len(modules)


def _running_group(group=None):
    """`group` (torch.distributed's default group when None) when a process group of more than one rank is running,
    else None: then SyncBatchRenorm is the plain layer, on_rank_zero just calls its function, and optimize runs alone."""
    if "torch" not in sys.modules:  # no process group without torch; and optimize must not import it for nothing
        return None
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return None
    group = group or dist.group.WORLD
    return group if dist.get_world_size(group) > 1 else None


def _group_ranks(group):
    """The global ranks of a running group, in the group's order."""
    import torch.distributed as dist

    if group is dist.group.WORLD:
        return list(range(dist.get_world_size()))
    if hasattr(dist, "get_process_group_ranks"):
        return list(dist.get_process_group_ranks(group))
    return [dist.distributed_c10d._get_global_rank(group, i) for i in range(dist.get_world_size(group))]  # torch < 1.13


class _AtRankZero(threading.local):
    # > 0 while on_rank_zero runs its function on this thread: a collective call in it (a report, should_stop) runs as
    # it is (see _through_lead).
    depth = 0


_AT_RANK_ZERO = _AtRankZero()


def on_rank_zero(fn, group=None):
    """For trainers of several processes (DistributedDataParallel, torchrun): calls fn() on the first rank of
    torch.distributed's process group (`group`; the default group when None) only, and returns its result on every
    rank, or raises the exception it raised (BudgetExhausted, LeaseLost, ...) on every rank. So one process creates
    the study, asks, reports and tells, while every rank trains the same trial and stops at the same prune decision or
    the same end of the budget; a rank that went its own way would leave the others waiting in a collective. Every
    rank of the group must call it at the same point. Without a process group of more than one rank it is fn()."""
    import pickle

    group = _running_group(group)
    if group is None:
        return fn()
    import torch.distributed as dist

    src = _group_ranks(group)[0]
    box, raised = [None], None
    if dist.get_rank() == src:
        # Pickled here, so that what cannot cross processes fails before the broadcast, not in it (the other ranks
        # would wait there for good).
        _AT_RANK_ZERO.depth += 1
        try:
            value = fn()
        except Exception as err:  # noqa: BLE001 - raised on every rank: here as it is, elsewhere as sent
            raised = err
            try:
                box[0] = pickle.dumps((False, err))
            except Exception:  # noqa: BLE001 - one that cannot cross processes goes in words
                box[0] = pickle.dumps((False, RuntimeError("%s: %s (raised on rank %d)" % (type(err).__name__, err, src))))
        else:
            try:
                box[0] = pickle.dumps((True, value))
            except Exception as err:  # noqa: BLE001
                raised = TypeError("on_rank_zero: fn's result (a %s) cannot be sent to the other ranks (%s); return "
                                   "something picklable, such as a number, a dict or a Trial" % (type(value).__name__, err))
                box[0] = pickle.dumps((False, raised))
        finally:
            _AT_RANK_ZERO.depth -= 1
    dist.broadcast_object_list(box, src=src, group=group)
    if raised is not None:
        raise raised
    ok, value = pickle.loads(box[0])
    if not ok:
        raise value
    return value


def _through_lead(trial, fn):
    """fn(), for a trial that optimize runs over a process group a collective: run on the group's first rank, its result
    (or exception) on every rank; a call already inside on_rank_zero's function runs as it is."""
    group = trial.__dict__.get("_group") if isinstance(trial, Trial) else None
    if group is None or _AT_RANK_ZERO.depth:
        return fn()
    return on_rank_zero(fn, group)


class _Ranks:
    """The processes one optimize call runs in: this one alone, or a running process group whose first rank talks to
    the server for all."""

    def __init__(self, group=None, grace=_PEER_GRACE_SECONDS):
        self.grace = grace  # optimize's peer_grace_seconds
        self.group = None if group is False else _running_group(group)
        self.ranks = [None] if self.group is None else _group_ranks(self.group)
        self.is_lead = self.group is None or self.ranks[0] == sys.modules["torch.distributed"].get_rank()
        self.store = None if self.group is None else _default_store()  # where the ranks meet after each objective

    def lead(self, fn):
        """fn() on the first rank; its result (or exception) on every rank."""
        return fn() if self.group is None else on_rank_zero(fn, self.group)

    def meet(self, key, waits):
        """Before the ranks gather their outcomes of one trial (`key`: its lease's). A rank whose objective raised
        (`waits`) may have left a collective that the others wait in for good, so it does not enter the gather at
        once: it waits at most `self.grace` seconds for every rank to come back from its objective, through the
        process group's store (not a collective). "met": every rank gathers; "gave up": this rank waited in vain and
        leaves; "left": a rank gave up before this one came back. One atomic counter decides, so the ranks agree
        on whether the gather happens: each arrival adds 1, a rank that gives up adds _LEFT."""
        store = self.store
        if store is None:
            return "met"
        arrived = store.add(key, 1)
        if arrived >= _LEFT:
            return "left"
        if arrived == len(self.ranks):
            store.set(key + "/all", "1")
        elif waits:
            try:
                store.wait([key + "/all"], datetime.timedelta(seconds=self.grace))
            except RuntimeError:  # the store's wait timed out (DistStoreError is one too)
                if store.add(key, _LEFT) - _LEFT < len(self.ranks):
                    return "gave up"
        return "met"

    def parted(self, key):
        """After the gather: the meeting's keys removed (the first rank's job; every rank has read them)."""
        if self.store is not None and self.is_lead:
            for k in (key, key + "/all"):
                with contextlib.suppress(Exception):
                    self.store.delete_key(k)

    def gather(self, item):
        """Every rank's item, in the group's order."""
        if self.group is None:
            return [item]
        out = [None] * len(self.ranks)
        sys.modules["torch.distributed"].all_gather_object(out, item, group=self.group)
        return out


def _default_store():
    """The running process group's key-value store (torchrun's TCPStore, a file's FileStore); None where this torch
    does not expose it (then a rank that raised waits in the gather, as before)."""
    c10d = sys.modules["torch.distributed"].distributed_c10d
    return c10d._get_default_store() if hasattr(c10d, "_get_default_store") else None


_NO_HEARTBEAT = contextlib.nullcontext()


# ---- PyTorch Lightning -------------------------------------------------------------------------------------------

def lightning_callback(trial, total_steps=None, study=None, monitor="val_loss"):
    """A Lightning callback (lightning.pytorch, or the older pytorch_lightning package) for one trial's fit: before each
    training batch it sets the trial's (or an export's) clipping at trainer.global_step on every batch renorm layer of
    the LightningModule, the schedule stretched to `total_steps` (default the fit's own length,
    trainer.estimated_stepping_batches). Given `study`, after each validation it reports `monitor` from
    trainer.callback_metrics at global_step and, when the pruner asks, stops the fit (trainer.should_stop; the
    callback's `pruned` is then True); return or tell the last value as usual. Under DDP the first rank reports and
    every rank stops together (log the monitored value with sync_dist=True so that the ranks agree on it)."""
    try:
        from lightning.pytorch import Callback
    except ImportError:
        from pytorch_lightning import Callback

    class RenormTuneCallback(Callback):
        pruned = False
        modules = ()
        steps = total_steps

        def on_train_start(self, trainer, pl_module):
            self.modules = renorm_modules(pl_module)
            if not self.modules:
                warnings.warn("lightning_callback: the module has no batch renorm layer; the schedule moves nothing", stacklevel=2)
            if total_steps is None:
                self.steps = int(trainer.estimated_stepping_batches)
                _warn_length("lightning_callback", trial, self.steps, "max_epochs")

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            apply_clipping(self.modules, trial, trainer.global_step, self.steps)

        def on_validation_end(self, trainer, pl_module):
            # Only the fit's own validations: not its sanity check, nor a trainer.validate() after it.
            if study is None or trainer.sanity_checking or trainer.state.fn != "fit":
                return
            metrics = trainer.callback_metrics
            if monitor not in metrics:
                raise KeyError("lightning_callback: %r is not among the logged metrics (%s); pass monitor= one of them, "
                               "logged with self.log in validation_step" % (monitor, ", ".join(sorted(metrics)) or "none"))
            value, step = float(metrics[monitor]), trainer.global_step
            if on_rank_zero(lambda: study.report(trial, step, value)):
                self.pruned = True
                trainer.should_stop = True

    return RenormTuneCallback()


# ---- Keras 3 (TensorFlow, PyTorch or JAX backend) ---------------------------------------------------------------------

_KERAS_LAYERS = ("BatchRenormalization",)


def _define_keras_layers():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="renorm_tune")
    class BatchRenormalization(keras.layers.Layer):
        """Batch Renormalization (Ioffe 2017) for Keras 3, where BatchNormalization goes: the semantics of tf.keras 2's
        BatchNormalization(renorm=True), which Keras 3 dropped (3.15 has it again, its limits fixed when the layer is
        made), and of renorm-tune's own layer and BatchRenorm2d. `axis` is the channels' axis (-1, channels last);
        `momentum` and `renorm_momentum` weigh the old value.

        Training normalizes by the batch's mean and std, then y = gamma * (xhat * r + d) + beta with r clipped to
        [rmin, rmax] and d to [-dmax, dmax], both held constant for backprop; inference uses the moving statistics.
        The limits are non-trainable weights of the layer (plain BatchNorm, 1, 1, 0, until set): keras_callback(trial,
        total_steps) moves every such layer of the model along the trial's schedule before each batch, and
        set_clipping(rmax, rmin, dmax) sets one by hand. As data, not constants, they reach a compiled train step.
        A mask (the input's shape without its channels, channels last) limits the batch statistics to its True
        positions, as BatchNormalization's does, and passes on. `synchronized=True` (TensorFlow, under a
        tf.distribute strategy) takes the statistics of the global batch across replicas, as BatchNormalization's.
        Under mixed precision the statistics are taken in float32, as BatchNormalization does."""

        def __init__(self, axis=-1, momentum=0.99, renorm_momentum=0.99, epsilon=1e-3, center=True, scale=True,
                     synchronized=False, **kwargs):
            if synchronized and keras.backend.backend() != "tensorflow":
                raise ValueError("BatchRenormalization: synchronized=True needs the TensorFlow backend (as "
                                 "BatchNormalization's), not %s; use SyncBatchRenorm on PyTorch" % keras.backend.backend())
            super().__init__(**kwargs)
            self.axis, self.momentum, self.renorm_momentum = int(axis), float(momentum), float(renorm_momentum)
            self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
            self.synchronized = bool(synchronized)
            self._limits = (1.0, 1.0, 0.0)  # rmax, rmin, dmax until built (set_clipping may come first)
            self.supports_masking = True  # the mask passes through, as BatchNormalization's does

        def build(self, input_shape):
            rank = len(input_shape)
            if not -rank <= self.axis < rank:
                raise ValueError("BatchRenormalization: axis %d is outside %d-D input (shape %s)" % (self.axis, rank, tuple(input_shape)))
            self._channel_axis = self.axis % rank
            channels = input_shape[self._channel_axis]
            if channels is None:
                raise ValueError("BatchRenormalization: axis %d of input shape %s must be known" % (self.axis, tuple(input_shape)))
            shape = (channels,)
            # autocast=False, as BatchNormalization's: under mixed precision call() reads them in float32, not in the
            # compute dtype, and the statistics stay float32.
            weight = lambda name, init, trainable=True, shape=shape: self.add_weight(
                shape=shape, initializer=init, name=name, trainable=trainable, autocast=False)
            self.gamma = weight("gamma", "ones") if self.scale else None
            self.beta = weight("beta", "zeros") if self.center else None
            for name, init in (("moving_mean", "zeros"), ("moving_variance", "ones"), ("moving_stddev", "ones"),
                               ("renorm_mean", "zeros"), ("renorm_stddev", "ones")):
                setattr(self, name, weight(name, init, trainable=False))
            for name, init in zip(("rmax", "rmin", "dmax"), self._limits):
                setattr(self, name, weight(name, keras.initializers.Constant(init), trainable=False, shape=()))

        def set_clipping(self, rmax, rmin, dmax):
            if not self.built:
                self._limits = (float(rmax), float(rmin), float(dmax))
                return
            for variable, value in ((self.rmax, rmax), (self.rmin, rmin), (self.dmax, dmax)):
                variable.assign(self._constant(value))

        def _constant(self, value):
            # In the variables' dtype from the start: a Python float would become a float32 tensor first (the torch
            # backend), off by 1e-8 in a float64 layer.
            return ops.convert_to_tensor(value, dtype=self.variable_dtype)

        def _broadcast(self, v, rank):
            shape = [1] * rank
            shape[self._channel_axis] = -1
            return ops.reshape(v, shape)

        def _moments(self, x, axes, mask):
            """The batch's mean and biased variance per channel: synchronized, the global batch's across replicas;
            with a mask, over its True positions only (this replica's), as Keras 3's BatchNormalization takes them
            (its small constant in the denominators included)."""
            if mask is None:
                return ops.moments(x, axes=axes, synchronized=self.synchronized)
            if len(mask.shape) != len(x.shape) - 1 or self._channel_axis != len(x.shape) - 1:
                raise ValueError("BatchRenormalization (%s): a mask must have the input's shape without its channels, "
                                 "the last axis (axis=-1), as BatchNormalization's; got mask shape %s for input shape %s "
                                 "with axis %d" % (self.name, tuple(mask.shape), tuple(x.shape), self.axis))
            keep = ops.broadcast_to(ops.expand_dims(ops.cast(mask, "bool"), -1), ops.shape(x))
            count = ops.sum(ops.cast(keep, x.dtype), axes) + self._constant(keras.backend.epsilon())
            mean = ops.sum(ops.where(keep, x, 0), axes) / count
            centred = ops.where(keep, x - mean, 0)
            return mean, ops.sum(centred * centred, axes) / count

        def call(self, inputs, training=False, mask=None):
            rank = len(inputs.shape)
            x = ops.cast(inputs, self.variable_dtype)  # float32 statistics under mixed precision
            eps = self._constant(self.epsilon)
            if training:
                axes = [i for i in range(rank) if i != self._channel_axis]
                mean, var = self._moments(x, axes, mask)  # the biased variance
                std = ops.sqrt(var + eps)
                m, s = ops.stop_gradient(mean), ops.stop_gradient(std)
                # The variables' values as tensors (JAX's where takes no Variable); clip and where, not maximum and
                # minimum: Keras 3.15's torch backend returns float32 from those.
                renorm_mean, renorm_stddev = self.renorm_mean.value, self.renorm_stddev.value
                floor = ops.sqrt(eps)
                denom = ops.where(renorm_stddev > floor, renorm_stddev, floor)
                r = ops.clip(s / denom, self.rmin.value, self.rmax.value)
                d = ops.clip((m - renorm_mean) / denom, -self.dmax.value, self.dmax.value)
                step, renorm_step = self._constant(1 - self.momentum), self._constant(1 - self.renorm_momentum)
                self.renorm_mean.assign(renorm_mean + renorm_step * (m - renorm_mean))
                self.renorm_stddev.assign(renorm_stddev + renorm_step * (s - renorm_stddev))
                self.moving_mean.assign(self.moving_mean + step * (m - self.moving_mean))
                moving_stddev = self.moving_stddev + step * (s - self.moving_stddev)
                self.moving_stddev.assign(moving_stddev)
                self.moving_variance.assign(ops.relu(moving_stddev * moving_stddev - eps))
                y = (x - self._broadcast(mean, rank)) / self._broadcast(std, rank)
                y = y * self._broadcast(r, rank) + self._broadcast(d, rank)
            else:
                y = (x - self._broadcast(self.moving_mean, rank)) / self._broadcast(ops.sqrt(self.moving_variance + eps), rank)
            if self.gamma is not None:
                y = y * self._broadcast(self.gamma, rank)
            if self.beta is not None:
                y = y + self._broadcast(self.beta, rank)
            return ops.cast(y, self.compute_dtype)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                    "renorm_momentum": self.renorm_momentum, "epsilon": self.epsilon, "center": self.center,
                    "scale": self.scale, "synchronized": self.synchronized}

    return {"BatchRenormalization": BatchRenormalization}


def keras_convert_batchnorm(model, renorm_momentum=0.99, in_place=False):
    """A copy of a Keras 3 Functional or Sequential model (a keras.applications network, say; nested models too) with
    every BatchNormalization replaced by a BatchRenormalization that takes over its axis, momentum, epsilon, scale,
    shift and moving statistics, which also start the renorm statistics: in inference, and in training until
    keras_callback relaxes the limits, the copy computes what the model did (a BatchNormalization(renorm=True) of
    Keras 3.15 gives its own renorm statistics and limits instead). Every other layer keeps its weights; a
    BatchNormalization inside a custom layer of the model is replaced in the copy as below. `renorm_momentum` is the
    trial's (0.99 otherwise). Compile the copy afresh.

    A subclassed model (its layers made in Python code, not a graph) cannot be copied so: with `in_place=True` its
    BatchNormalization layers are swapped in the model itself, which is returned. Each must be held in an attribute
    of the model or of one of its layers (``self.norm = ...``, or in a list, tuple or dict attribute); a Functional
    or Sequential model held so is swapped for its converted copy. Where one is not (made inside call, say), nothing
    is changed and a ValueError names it. Compile the model afresh."""
    import keras

    renorm = _keras_layer_class("BatchRenormalization")

    def make(layer):
        return renorm(axis=layer.axis, momentum=layer.momentum, renorm_momentum=renorm_momentum,
                      epsilon=layer.epsilon, center=layer.center, scale=layer.scale, name=layer.name,
                      synchronized=getattr(layer, "synchronized", False), dtype=layer.dtype_policy)

    def clone(layer):
        return make(layer) if isinstance(layer, keras.layers.BatchNormalization) else layer.__class__.from_config(layer.get_config())

    if not isinstance(model, (keras.Sequential, keras.Function)):
        if not in_place:
            raise ValueError("keras_convert_batchnorm: %s is a subclassed model, which Keras cannot copy layer by layer; "
                             "convert it in place with in_place=True (its BatchNormalization layers swapped in the model "
                             "itself), or use BatchRenormalization where it makes BatchNormalization" % type(model).__name__)
        _keras_swap_batchnorms(model, make, renorm_momentum)
        return model
    if in_place:
        raise ValueError("keras_convert_batchnorm: in_place=True is for subclassed models; %r is a %s model, which is "
                         "copied instead (leave in_place out)" % (model.name, type(model).__name__))
    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    _keras_take_weights(model, copy)
    _keras_swap_batchnorms(copy, make, renorm_momentum)  # those inside custom layers, which the clone copied whole
    return copy


def _keras_take_weights(model, copy):
    """Each layer of `copy` (keras_convert_batchnorm's clone) takes the weights of the layer of `model` in its place,
    level by level (nested models recurse)."""
    import keras

    # Matched by place, not by name: the clone renames a layer whose get_config leaves its name out (a custom
    # layer's default one does).
    assert len(model.layers) == len(copy.layers), "clone_model copies every layer"
    for old, new in zip(model.layers, copy.layers):
        if not old.weights:  # an input layer, or one without weights
            continue
        if isinstance(old, keras.Model):
            _keras_take_weights(old, new)
        elif isinstance(old, keras.layers.BatchNormalization):
            _keras_take_batchnorm(old, new)
        else:
            new.set_weights(old.get_weights())


def _keras_take_batchnorm(old, new):
    """A BatchRenormalization (`new`, built) takes over a BatchNormalization's weights and statistics: its moving
    statistics also start the renorm ones, or Keras's own renorm's statistics and limits, as they are."""
    from keras import ops

    pairs = [("moving_mean", old.moving_mean), ("moving_variance", old.moving_variance)]
    if getattr(old, "renorm", False):
        # Keras's own renorm (3.15 has it again): its renorm statistics and limits, as they are.
        pairs += [(name, getattr(old, name)) for name in ("moving_stddev", "renorm_mean", "renorm_stddev")]
        clip = old.renorm_clipping or {}
        new.set_clipping(*(_UNCLIPPED[k] if clip.get(k) is None else float(clip[k]) for k in _KEYS))
    else:
        std = ops.sqrt(old.moving_variance + old.epsilon)
        pairs += [("moving_stddev", std), ("renorm_mean", old.moving_mean), ("renorm_stddev", std)]
    pairs += [(name, getattr(old, name)) for name in ("gamma", "beta") if getattr(old, name) is not None]
    for name, value in pairs:
        # Each its own copy: on JAX two variables holding one buffer fail a compiled step that donates them.
        getattr(new, name).assign(ops.copy(value))


# A layer's own records of what it holds, which the swap updates itself (Keras's list of sublayers and its tracker),
# and TensorFlow's record of attribute names ("_self_..."), which setattr updates.
_KERAS_RECORDS = ("_layers", "_tracker")


def _keras_swap_batchnorms(root, make, renorm_momentum):
    """keras_convert_batchnorm(in_place=True): every BatchNormalization that a layer of `root` holds in an attribute
    (or in a list, tuple or dict attribute) swapped for make(it), built and given its weights, in every place that
    holds it; a Functional or Sequential model that holds one, for its converted copy. Planned first: when a
    BatchNormalization of root is held nowhere so, nothing is changed."""
    import keras

    norm = keras.layers.BatchNormalization
    if not any(isinstance(l, norm) for l in _keras_layers(root)):
        return  # nothing to swap (a clone whose custom layers hold none): no walk through every layer's attributes
    swaps, seen = {}, set()  # id(old): [old, new, places]; a place: (owner, attribute, list or dict or None, key)

    def note(owner, attribute, container, key, value):
        if isinstance(value, (list, dict)):  # nested ones too (Keras tracks them)
            for k, item in list(value.items() if isinstance(value, dict) else enumerate(value)):
                note(owner, attribute, value, k, item)
            return
        if isinstance(value, tuple) and container is None:  # rebuilt whole: a tuple cannot change
            for k, item in enumerate(value):
                note(owner, attribute, value, k, item)
            return
        if id(value) not in swaps:
            if isinstance(value, norm):
                new = make(value)
            elif isinstance(value, (keras.Sequential, keras.Function)) and any(isinstance(l, norm) for l in _keras_layers(value)):
                new = keras_convert_batchnorm(value, renorm_momentum)
            else:
                return
            swaps[id(value)] = [value, new, []]
        swaps[id(value)][2].append((owner, attribute, container, key))

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        for name, value in list(vars(layer).items()):
            if name not in _KERAS_RECORDS and not name.startswith("_self_"):
                note(layer, name, None, None, value)
        for child in getattr(layer, "_layers", ()):
            if id(child) not in swaps:
                visit(child)

    visit(root)
    reached = set(swaps)
    for old, _, _ in swaps.values():
        if not isinstance(old, norm):
            reached.update(id(l) for l in _keras_layers(old))
    missed = [l.name for l in _keras_layers(root) if isinstance(l, norm) and id(l) not in reached]
    if missed:
        raise ValueError("keras_convert_batchnorm: %s holds BatchNormalization %s in no attribute of its layers (made "
                         "inside call, kept elsewhere, or in a tuple inside a list or dict), so they cannot be swapped; "
                         "nothing was changed: keep each in an attribute (self.norm = ...), or make "
                         "BatchRenormalization there" % (type(root).__name__, ", ".join(repr(n) for n in missed)))
    owners = [root] + [l for l in _keras_layers(root) if l is not root]
    for old, new, places in swaps.values():
        if isinstance(old, norm) and old.built:
            spec = old.input_spec  # what BatchNormalization was built for: its rank and its channels
            shape = [None] * spec.ndim
            for axis, size in (spec.axes or {}).items():
                shape[axis] = size
            new.build(shape)
            _keras_take_batchnorm(old, new)
        for owner in owners:  # every layer that tracks it, whichever holds it
            tracker = getattr(owner, "_tracker", None)
            if tracker is not None and tracker.is_in_store("layers", old):
                tracker.replace_tracked_value("layers", old, new)
        for owner, attribute, container, key in places:
            if container is None:
                setattr(owner, attribute, new)
            elif isinstance(container, tuple):
                held = getattr(owner, attribute)
                setattr(owner, attribute, held[:key] + (new,) + held[key + 1:])
            else:  # a list or dict (Keras's tracked ones: the tracker already holds the new layer)
                container[key] = new


def _keras_layers(model):
    """Every layer of a Keras 3 model, nested ones included."""
    return model._flatten_layers() if hasattr(model, "_flatten_layers") else model.layers


def _keras_renorm_layers(model):
    """Every layer of a Keras 3 model with a set_clipping method (BatchRenormalization), nested ones included."""
    return [layer for layer in _keras_layers(model) if callable(getattr(layer, "set_clipping", None))]


def _keras_step(model):
    import keras
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def keras_reporter(study, trial, monitor="val_loss"):
    """A Keras callback that reports `monitor` from each epoch's logs to `trial` at the optimizer's step count (the
    steps the schedule counts) and, when the pruner asks the trial to stop, ends the fit (model.stop_training; its
    `pruned` is then True). Return or tell the last value as usual: a trial the pruner stopped is recorded PRUNED."""
    import keras

    class RenormTuneReporter(keras.callbacks.Callback):
        pruned = False

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if monitor not in logs:
                raise KeyError("keras_reporter: %r is not among this epoch's logs (%s); pass monitor= one of them "
                               "(val_ ones need validation_data in fit)" % (monitor, ", ".join(sorted(logs)) or "none"))
            if study.report(trial, _keras_step(self.model), float(logs[monitor])):
                self.pruned = True
                self.model.stop_training = True

    return RenormTuneReporter()


# ---- Keras (tf.keras 2 / tf_keras, whose `renorm_clipping` takes variables) ------------------------------------------

def keras_clipping():
    """{rmax, rmin, dmax} as tf.Variables, for BatchNormalization(renorm=True, renorm_clipping=...); plain BatchNorm at first."""
    import tensorflow as tf
    return {k: tf.Variable(v, trainable=False, dtype=tf.float32) for k, v in (("rmax", 1.0), ("rmin", 1.0), ("dmax", 0.0))}


def _warn_length(who, trial, steps, epochs_name):
    """Warns when a fit of an asked trial runs another length than the trial asks for (a final run at N times the
    study's: stepsMultiplier): the schedule would be squeezed into the fit, and the run recorded as that length."""
    if not isinstance(trial, Trial) or not isinstance(trial.get("totalSteps"), int) or steps == trial["totalSteps"]:
        return
    warnings.warn("%s: this fit trains %s steps, but trial #%s (%s) asks for %d (stepsMultiplier %s): scale %s by "
                  "trial.steps_multiplier (and give trial.total_steps as the run length)"
                  % (who, steps, trial.get("number"), trial.get("role"), trial["totalSteps"], trial.steps_multiplier,
                     epochs_name), stacklevel=3)


def keras_callback(source, total_steps, clipping=None):
    """A Keras callback that moves the clipping along the trial's (or export's) schedule before every batch, at the
    optimizer's step count: on every BatchRenormalization layer of the model (Keras 3), or, given `clipping` from
    keras_clipping, on those variables (tf.keras 2's BatchNormalization(renorm=True, renorm_clipping=clipping))."""
    if clipping is None:
        import keras

        class RenormSchedule(keras.callbacks.Callback):
            layers = None

            def on_train_begin(self, logs=None):
                _warn_length("keras_callback", source, total_steps, "epochs")
                epochs, steps = (self.params or {}).get("epochs"), (self.params or {}).get("steps")
                if isinstance(epochs, int) and isinstance(steps, int):
                    _warn_length("keras_callback", source, epochs * steps, "epochs")
                self.layers = _keras_renorm_layers(self.model)
                own = [layer.name for layer in _keras_layers(self.model)
                       if isinstance(layer, keras.layers.BatchNormalization) and getattr(layer, "renorm", False)]
                if own:
                    warnings.warn("keras_callback: %s use%s Keras's own renorm, whose limits are fixed when the layer is "
                                  "made: the schedule does not move them (keras_convert_batchnorm(model) makes them "
                                  "BatchRenormalization, statistics and limits kept)"
                                  % (", ".join(own), "s" if len(own) == 1 else ""), stacklevel=2)
                if not self.layers:
                    warnings.warn("keras_callback: the model has no BatchRenormalization layer; the schedule moves nothing",
                                  stacklevel=2)

            def on_train_batch_begin(self, batch, logs=None):
                # On JAX, reading self.model brings its variables up to date with the fit's state (the optimizer's step
                # count among them), and the fit then reads them back with the new limits.
                c = schedule_at(source, _keras_step(self.model), total_steps)
                for layer in self.layers:
                    layer.set_clipping(c["rmax"], c["rmin"], c["dmax"])

        return RenormSchedule()

    import tensorflow as tf

    class RenormSchedule(tf.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            step = int(self.model.optimizer.iterations.numpy())
            for k, v in schedule_at(source, step, total_steps).items():
                clipping[k].assign(v)

    return RenormSchedule()


def _keras_layer_class(name):
    # Built once, on first use, so `import renorm_tune` works without Keras.
    if name not in globals():
        globals().update(_define_keras_layers())
    return globals()[name]
