"""`make run`: the whole embedded lovflow in one command.

1. create or migrate the app database (SQLite under var/ by default) and add the
   municipalities found in policies/ (and, with --demo, the demo providers);
2. start a Prefect server on SQLite with the UI on http://127.0.0.1:4200, or reuse
   one that already answers there;
3. start a local SMTP server on 127.0.0.1:8025 that stores every message as an
   .eml file under var/mail/ (unless something already listens there);
4. serve every deployment with its schedule until Ctrl-C or SIGTERM, then stop what
   it started. Meanwhile a thread marks runs whose process died as Crashed
   (deployments/zombie_watch.py), and another prints each error the Prefect server
   writes to its log (deployments/server_log.py).

This process is a small supervisor. The Prefect server and the serving process run
as children in sessions of their own, so a signal reaches only the supervisor, which
stops them in order: serve first (it pauses its schedules through the API, which
must still be up), then the SMTP sink and the Prefect server. Serve is stopped with
one SIGINT, because Prefect 3.8.8's own SIGTERM handler calls an async stop()
without awaiting it and can hang. Each child's pid is written to var/run/, so a
supervisor killed with SIGKILL leaves something an operator (or a test) can stop.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from deployments.server_log import LogWatcher
from models.settings import Settings, SettingsError, load_settings, mask_url

if TYPE_CHECKING:  # imports Prefect, which must wait for apply_prefect_defaults
    from deployments.staff_page import StaffPage
    from deployments.zombie_watch import ZombieWatch

SERVER_START_TIMEOUT_SECONDS = 120


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _api_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def prepare_database(settings: Settings, *, demo: bool) -> None:
    from deployments.reference_data import load_demo_data, sync_municipalities
    from models.db import migrate, session_scope

    migrate(settings.effective_database_url)
    with session_scope() as session:
        added = sync_municipalities(session)
        if added:
            print(f"Kommuner tillagda från policies/: {', '.join(added)}")
        if demo:
            count = load_demo_data(session, today=date.today())
            print(f"Demodata: {count} nya utförare med aktiva avtal.")


def start_prefect_server(settings: Settings, api_url: str) -> subprocess.Popen[bytes] | None:
    """Start `prefect server start` unless a server already answers; wait until healthy."""
    if _api_healthy(api_url):
        print(f"Prefect-servern svarar redan på {api_url}: den används.")
        return None
    from deployments.environment import LOCAL_HOST

    port = settings.prefect_port
    if _port_in_use(LOCAL_HOST, port):
        raise SystemExit(
            f"Port {port} is taken by something that is not a Prefect server; "
            "stop it, or set LOVFLOW_PREFECT_PORT to another port."
        )
    log_path = server_log_path(settings)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("ab")
    prefect = Path(sys.executable).with_name("prefect")
    process = subprocess.Popen(
        [str(prefect), "server", "start", "--host", LOCAL_HOST, "--port", str(port)],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        # Its own session: Ctrl-C in the terminal reaches only us, so the server stays up
        # while serve shuts down (serve pauses its schedules through the API), and we
        # stop it afterwards.
        start_new_session=True,
    )
    _write_pid(settings, "prefect-server", process.pid)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while not _api_healthy(api_url):
        if process.poll() is not None or time.monotonic() > deadline:
            # Stopped at start, or never answered: stop it and drop its pid file.
            _stop_child(settings, "prefect-server", process, signal.SIGTERM, timeout=30)
            raise SystemExit(
                f"The Prefect server did not start within {SERVER_START_TIMEOUT_SECONDS} s; "
                f"see {log_path}"
            )
        time.sleep(0.5)
    return process


def server_log_path(settings: Settings) -> Path:
    return settings.var_dir / "log" / "prefect-server.log"


def _run_dir(settings: Settings) -> Path:
    return settings.var_dir / "run"


def _write_pid(settings: Settings, name: str, pid: int) -> None:
    _run_dir(settings).mkdir(parents=True, exist_ok=True)
    (_run_dir(settings) / f"{name}.pid").write_text(f"{pid}\n")


def _stop_child(
    settings: Settings,
    name: str,
    process: subprocess.Popen[bytes],
    sig: signal.Signals,
    timeout: float,
) -> None:
    """Signal a child, wait for it, kill it (and its session) if it does not stop."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {timeout:.0f} s; killing it", file=sys.stderr)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    (_run_dir(settings) / f"{name}.pid").unlink(missing_ok=True)


def _stop_on_signals() -> None:
    """Turn SIGTERM (a service manager's stop) into the same path as Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(*, demo: bool) -> int:
    _stop_on_signals()
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    from deployments.environment import apply_prefect_defaults, local_ui_url

    prefect_env = apply_prefect_defaults(settings)  # children inherit these
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    server: subprocess.Popen[bytes] | None = None
    serving: subprocess.Popen[bytes] | None = None
    sink = None
    watcher: LogWatcher | None = None
    zombies: ZombieWatch | None = None
    staff: StaffPage | None = None
    try:
        prepare_database(settings, demo=demo)
        # Watched from its current end: an error the server reports from now on is
        # printed here, so the operator sees it without opening var/log/.
        watcher = LogWatcher(server_log_path(settings)).start()
        server = start_prefect_server(settings, prefect_env["PREFECT_API_URL"])
        from deployments.zombie_watch import ZombieWatch

        # Marks runs whose process died as Crashed; never a run that waits for a form.
        zombies = ZombieWatch().start()
        from deployments.staff_page import StaffPage

        staff = StaffPage(port=settings.staff_port).start()
        from deployments.mail_sink import start_mail_sink

        if _port_in_use(settings.smtp_host, settings.smtp_port):
            print(f"Något lyssnar redan på SMTP-port {settings.smtp_port}: det används.")
        else:
            sink = start_mail_sink(
                settings.smtp_host, settings.smtp_port, settings.effective_mail_dir
            )
        print(
            "\nlovflow körs.\n"
            f"  Att göra:    {staff.url}  (det som väntar på handläggare)\n"
            f"  Prefect UI:  {local_ui_url(settings)}\n"
            "               (Deployments: starta processer. Flow runs: följ dem.)\n"
            f"  E-post:      {settings.effective_mail_dir}  (varje brev som en .eml-fil)\n"
            f"  Databas:     {mask_url(settings.effective_database_url)}\n"
            "Stoppa med Ctrl-C.\n",
            flush=True,
        )
        serving = subprocess.Popen(
            [sys.executable, "-m", "deployments.serve"], start_new_session=True
        )
        _write_pid(settings, "serve", serving.pid)
        serving.wait()
        print(f"The serving process exited with {serving.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # Stopping must not be cut short by a second Ctrl-C.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if serving is not None:
            _stop_child(settings, "serve", serving, signal.SIGINT, timeout=60)
        if zombies is not None:
            zombies.stop()
        if staff is not None:
            staff.stop()
        if sink is not None:
            sink.stop()
        if server is not None:
            _stop_child(settings, "prefect-server", server, signal.SIGTERM, timeout=30)
        if watcher is not None:
            watcher.stop()
        print("lovflow har stoppats.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.local",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start everything (make run)")
    run_parser.add_argument("--demo", action="store_true", help="load demo providers first")
    sub.add_parser("migrate", help="create or migrate the app database, then exit")
    sub.add_parser("demo", help="load demo data into the app database, then exit")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(demo=args.demo)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    prepare_database(settings, demo=args.command == "demo")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    sys.exit(main())
