"""The demo launcher: `python -m oms.demo` (`make demo`), and `python -m oms.demo --reset` (`make demo-reset`).

One command runs the system in miniature: it starts (or joins) the embedded PostgreSQL of the demo folder unless
DATABASE_URL is set, migrates, seeds the demo tenant, then runs the web server (gunicorn with the repo's
gunicorn.conf.py), a Celery worker on every queue and celery beat, and streams their output, each line prefixed
with its process's name. A process that dies is started again after a pause that doubles while it keeps dying
(1 s up to 30 s). Ctrl-C or SIGTERM stops them all, each with its process group (TERM, then KILL after
STOP_TIMEOUT), then the PostgreSQL it runs, and removes its PID file. The PID file is locked while the launcher
lives, so a second launcher on the same folder refuses to start, and the file left by a killed launcher is seen
as stale and replaced.

Standard library and pgserver only: Django is loaded by the processes started here, never by the launcher.
"""

import argparse
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from oms import demo
from oms.demo import embedded

BASE_DIR = Path(__file__).resolve().parents[2]
QUEUES = "default,routing,webhooks,reporting"
STOP_TIMEOUT = 20.0  # seconds between TERM and KILL: gunicorn's graceful timeout and a webhook's fit in it
READY_TIMEOUT = 180.0
BACKOFF_MAX = 30.0
STEADY_AFTER = 60.0  # a process that ran this long before dying is restarted after the shortest pause
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# Linux: a child asks the kernel for SIGTERM when the launcher dies, even killed with SIGKILL, and only then runs its
# program; none is left serving the port or holding the database when the launcher is gone. (1 is PR_SET_PDEATHSIG.)
_DIE_WITH_LAUNCHER = (
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
    "os.getppid() == int(sys.argv[1]) or sys.exit(1); os.execv(sys.argv[2], sys.argv[2:])"
)


def demo_folder() -> Path:
    return Path(os.environ.get("OMS_DEMO_DIR") or BASE_DIR / ".demo").resolve()


class Console:
    """Lines from several threads, each prefixed with the name of the process it comes from."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        with self.lock:
            self.stream.write(f"{name:<7}| {text}\n")
            self.stream.flush()

    def say(self, text: str) -> None:
        self.line("demo", text)


class PidFile:
    """`<folder>/launcher.pid`, locked (flock) while its launcher lives: the lock dies with the process, so a file
    whose lock can be taken was left by a launcher that was killed."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = None

    def acquire(self) -> tuple[bool, str]:
        """(True, pid of a stale file or "") when taken; (False, pid of the running launcher) when held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            return False, holder
        stale = os.read(fd, 32).decode(errors="replace").strip()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return True, stale

    def release(self) -> None:
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None


class Child:
    """One supervised process, alone in its process group so that stopping it stops what it started too."""

    def __init__(self, name: str, argv: list[str], env: dict, console: Console):
        self.name, self.argv, self.env, self.console = name, argv, env, console
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.failures = 0
        self.restart_at: float | None = None

    def start(self) -> None:
        argv = self.argv
        if sys.platform == "linux":
            argv = [sys.executable, "-c", _DIE_WITH_LAUNCHER, str(os.getpid()), *argv]
        self.process = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.console.line(self.name, raw.decode(errors="replace").rstrip("\n"))
        stream.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exited(self) -> int | None:
        """The exit code once the process is gone (None while it runs or before it started)."""
        return self.process.poll() if self.process is not None else None

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        else:
            self.signal_group(signal.SIGTERM)

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def schedule_restart(self, now: float) -> float:
        """Count the failure and answer the pause before the next start."""
        self.failures = 1 if now - self.started_at >= STEADY_AFTER else self.failures + 1
        pause = min(2.0 ** (self.failures - 1), BACKOFF_MAX)
        self.restart_at = now + pause
        return pause


class Launcher:
    def __init__(self, folder: Path, console: Console | None = None):
        self.folder = folder
        self.console = console or Console()
        self.pidfile = PidFile(folder / "launcher.pid")
        self.stop_requested = threading.Event()
        self.signals = 0
        self.server = None  # pgserver's handle, when the launcher runs the embedded PostgreSQL
        self.children: list[Child] = []
        self.host = os.environ.get("HOST") or "127.0.0.1"
        self.port = os.environ.get("PORT") or "8000"

    # --- signals ---------------------------------------------------------------------------------------------

    def _on_signal(self, signum, _frame) -> None:
        self.signals += 1
        self.stop_requested.set()
        if self.signals > 1:
            # Asked again while stopping: do not wait for the graceful end.
            for child in self.children:
                child.signal_group(signal.SIGKILL)

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    # --- the run ---------------------------------------------------------------------------------------------

    def run(self) -> int:
        self.install_signal_handlers()
        taken, other = self.pidfile.acquire()
        if not taken:
            self.console.say(
                f"A demo is already running on {self.folder} (launcher pid {other or '?'}). Stop it "
                f"with Ctrl-C in its terminal (or kill {other or 'it'}) before starting another, or set "
                "OMS_DEMO_DIR to run a second demo from another folder."
            )
            return 1
        if other:
            self.console.say(f"Replacing the stale PID file of launcher {other}, which is not running any more.")
        try:
            return self._run()
        finally:
            self.shutdown()

    def _run(self) -> int:
        if not self.port.isdigit() or not 0 < int(self.port) < 65536:
            self.console.say(f"PORT={self.port} is not a port number (1 to 65535).")
            return 1
        if not self._port_is_free():
            self.console.say(
                f"Port {self.port} on {self.host} is in use: set PORT (and HOST) to a free one, "
                "e.g. PORT=8123 make demo."
            )
            return 1
        env = self._child_env()
        if not env.get("DATABASE_URL"):
            running = embedded.postmaster_pid(self.folder)
            self.console.say(
                ("Joining the embedded PostgreSQL already running" if running else "Starting the embedded PostgreSQL")
                + f" in {embedded.data_folder(self.folder)}."
            )
            self.server = embedded.start(self.folder)
            env["DATABASE_URL"] = embedded.database_url(self.server)
        else:
            self.console.say("Using the database of DATABASE_URL.")
        self.console.say(
            "Broker: " + ("Redis (REDIS_URL)." if env.get("REDIS_URL") else f"files in {self.folder / 'broker'}.")
        )
        for name, argv in (("migrate", ["manage.py", "migrate", "--noinput"]), ("seed", ["manage.py", "seed_demo"])):
            if self.stop_requested.is_set():
                return 0
            code = self._run_step(name, [sys.executable, *argv], env)
            if self.stop_requested.is_set():
                return 0
            if code != 0:
                self.console.say(f"{' '.join(argv)} failed (exit {code}); stopping.")
                return 1
        python = sys.executable
        self.children = [
            Child(
                "web",
                [python, "-m", "gunicorn", "-c", str(BASE_DIR / "gunicorn.conf.py"), "oms.wsgi"],
                env,
                self.console,
            ),
            Child(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "oms",
                    "worker",
                    "-Q",
                    QUEUES,
                    "-n",
                    "demo@%h",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                ],
                env,
                self.console,
            ),
            Child(
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "oms",
                    "beat",
                    "-s",
                    str(self.folder / "beat-schedule"),
                    "--loglevel",
                    "INFO",
                ],
                env,
                self.console,
            ),
        ]
        for child in self.children:
            child.start()
        ready = False
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.stop_requested.is_set():
            self._supervise()
            if not ready:
                if self._answers():
                    ready = True
                    self._announce(env)
                elif time.monotonic() > deadline:
                    self.console.say(f"The web server did not answer within {READY_TIMEOUT:.0f} s; stopping.")
                    return 1
            self.stop_requested.wait(0.5 if ready else 0.2)
        return 0

    def _run_step(self, name: str, argv: list[str], env: dict) -> int:
        """A one-off command, streamed like the others; stopped with its group if the launcher is asked to stop."""
        step = Child(name, argv, env, self.console)
        step.start()
        while step.exited() is None:
            if self.stop_requested.is_set():
                self._stop_children([step])
                break
            time.sleep(0.1)
        return step.process.wait()

    def _supervise(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self.console.say(f"Starting {child.name} again.")
                    child.start()
                continue
            code = child.exited()
            if code is None:
                continue
            # What the dead process started (a gunicorn worker, a pool process) goes with it.
            child.signal_group(signal.SIGKILL)
            pause = child.schedule_restart(now)
            self.console.say(f"{child.name} (pid {child.pid}) exited with code {code}; restarting it in {pause:.0f} s.")
        if self.server is not None and embedded.postmaster_pid(self.folder) is None:
            self.console.say("The embedded PostgreSQL stopped; starting it again.")
            self.server.start()

    # --- stopping --------------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        running = [child for child in self.children if child.group_alive()]
        if running:
            self.console.say("Stopping " + ", ".join(child.name for child in running) + ".")
            self._stop_children(running)
        if self.server is not None:
            self.console.say("Stopping the embedded PostgreSQL.")
            embedded.release(self.server)
            self.server = None
        self.pidfile.release()
        self.console.say("Stopped.")

    def _stop_children(self, children: list[Child]) -> None:
        """TERM to each process, which stops what it started (gunicorn its workers, celery its pool); TERM to
        whatever outlives it in its group; KILL to the groups still there after STOP_TIMEOUT."""
        for child in children:
            child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(child.group_alive() for child in children):
            for child in children:
                if child.exited() is not None and child.group_alive():
                    child.signal_group(signal.SIGTERM)
            time.sleep(0.1)
        for child in children:
            if child.group_alive():
                self.console.say(f"{child.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it.")
                child.signal_group(signal.SIGKILL)
        for child in children:
            if child.process is not None:
                child.process.wait()

    # --- helpers ---------------------------------------------------------------------------------------------

    def _connect_host(self) -> str:
        """Where this machine reaches the server: a wildcard bind answers on the loopback."""
        host = self.host.strip("[]")
        return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host

    def public_url(self) -> str:
        host = self._connect_host()
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    def _port_is_free(self) -> bool:
        host = self.host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, int(self.port)))
            except OSError:
                return False
        return True

    def _child_env(self) -> dict:
        env = dict(os.environ)
        env.update(
            OMS_DEMO="1",
            OMS_DEMO_DIR=str(self.folder),
            OMS_PUBLIC_URL=self.public_url(),
            HOST=self.host,
            PORT=self.port,
            OMS_WEBHOOK_ALLOW_PRIVATE="1",
            PYTHONUNBUFFERED="1",
        )
        env.setdefault("DEBUG", "1")
        host = self._connect_host()
        if "ALLOWED_HOSTS" not in env and host not in LOCAL_HOSTS and f"[{host}]" not in LOCAL_HOSTS:
            wildcard = self.host.strip("[]") in ("0.0.0.0", "::")
            env["ALLOWED_HOSTS"] = "*" if wildcard else ",".join((*LOCAL_HOSTS, host))
        return env

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.public_url()}/healthz", timeout=2) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _announce(self, env: dict) -> None:
        url = self.public_url()
        say = self.console.say
        say(f"The demo is ready: {url}/")
        say(
            f"  Sign in with the password {demo.PASSWORD} as one of: "
            + ", ".join(f"{email} ({role})" for email, role, _name in demo.USERS)
        )
        say(f"  API key of the web shop (channel {demo.API_KEY_CHANNEL}): {demo.API_KEY}")
        say(f"    curl -H 'Authorization: Bearer {demo.API_KEY}' {url}/api/v1/orders/")
        say(f"  Webhooks the demo tenant receives: {url}/demo/webhooks/    API docs: {url}/api/v1/docs/")
        say(
            "  Database: "
            + ("the embedded PostgreSQL" if self.server is not None else "DATABASE_URL")
            + f"; data kept in {self.folder} (make demo-reset starts over). Stop with Ctrl-C."
        )


def reset(folder: Path, console: Console) -> int:
    """Delete the demo folder, unless a demo runs on it; a PostgreSQL left by a killed launcher is stopped first."""
    pidfile = PidFile(folder / "launcher.pid")
    taken, holder = pidfile.acquire()
    if not taken:
        console.say(f"A demo is running on {folder} (launcher pid {holder or '?'}): stop it before resetting.")
        return 1
    pidfile.release()
    if embedded.postmaster_pid(folder) is not None:
        console.say("Stopping the embedded PostgreSQL that a killed launcher left running.")
        embedded.stop_server(folder)
    if folder.exists():
        shutil.rmtree(folder)
        console.say(f"Deleted {folder}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oms.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reset", action="store_true", help="delete the demo folder first and start over")
    args = parser.parse_args(argv)
    folder, console = demo_folder(), Console()
    if args.reset:
        code = reset(folder, console)
        if code:
            return code
    return Launcher(folder, console).run()
