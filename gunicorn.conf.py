"""gunicorn settings for every deployment: the demo (`make demo`), docker-compose and production all run
`gunicorn -c gunicorn.conf.py oms.wsgi`. Command-line options override these.

HOST and PORT say where to listen (127.0.0.1:8000 by default; 0.0.0.0 in a container), WEB_CONCURRENCY how many
worker processes to run (2 by default). Requests are logged by the application itself (one JSON line each), so
gunicorn keeps no access log of its own; its own messages go to stderr.
"""

import os

_host = os.environ.get("HOST") or "127.0.0.1"
if ":" in _host and not _host.startswith("["):
    _host = f"[{_host}]"  # an IPv6 address
bind = [f"{_host}:{os.environ.get('PORT') or '8000'}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
timeout = 30
# A request in progress gets this long to finish when the server is asked to stop.
graceful_timeout = 10
# Workers' heartbeat files in memory: a container's disk-backed /tmp can stall them into being killed as hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
errorlog = "-"
# No control socket (gunicorn 27+): its default path is one per user, which every gunicorn of the machine would share.
control_socket_disable = True
