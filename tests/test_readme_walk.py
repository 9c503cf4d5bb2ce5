"""A newcomer's walk (issue 15): clone the repository fresh, run every line of the README's
"Every command, once" block as written, and insist each succeeds (exit 0, within LINE_LIMIT
seconds: a hang fails with its line); every CLI command and sub-command is in it.

The lines run through typer's CliRunner inside one Python process whose ``lvyue`` is the
clone's own ``src`` (one interpreter start instead of thirty); ``serve`` runs for real."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINE_LIMIT = 900  # seconds: a bound for hangs, not a speed target (preview took 190 s at load 20)
DRIVER = r"""
import json, shlex, signal, sys, traceback
from typer.testing import CliRunner
from lvyue.cli.main import app

class Hung(Exception):
    pass

def hung(*_):
    raise Hung()

signal.signal(signal.SIGALRM, hung)
results = []
for line in json.loads(sys.argv[1]):
    args = shlex.split(line)[1:]
    signal.alarm(int(sys.argv[2]))
    try:
        out = CliRunner().invoke(app, args, env={"COLUMNS": "80", "NO_COLOR": "1"})
    except Hung:
        results.append({"line": line, "code": "hung", "output": f"over {sys.argv[2]} s"})
        continue
    finally:
        signal.alarm(0)
    if isinstance(out.exception, Hung):
        results.append({"line": line, "code": "hung", "output": f"over {sys.argv[2]} s"})
        continue
    crashed = out.exception is not None and not isinstance(out.exception, SystemExit)
    tail = "".join(traceback.format_exception(*out.exc_info)) if crashed else ""
    results.append({"line": line, "code": out.exit_code, "output": (out.output + tail)[-1500:]})
print(json.dumps(results))
"""


def readme_lines(readme: Path) -> list[str]:
    text = readme.read_text("utf-8")
    block = text.split("<!-- walk -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The walk clones this checkout, as a newcomer would; never skipped (CI is a checkout).
    assert (REPO / ".git").exists(), f"{REPO} is not a git checkout: the README walk clones it"
    target = tmp_path_factory.mktemp("fresh") / "lvyue"
    subprocess.run(["git", "clone", "-q", str(REPO), str(target)], check=True)
    return target


def _env(clone: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(clone / "src"), "COLUMNS": "80"}


def test_every_cli_command_is_walked() -> None:
    from typer.main import get_command

    from lvyue.cli.main import app

    walked = {tuple(shlex.split(line)[1:3]) for line in readme_lines(REPO / "README.md")}
    group = get_command(app)
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        for sub in subs or [None]:
            key = (name, sub) if sub else None
            if (key and key not in walked) or (not key and not any(w[0] == name for w in walked)):
                missing.append(f"{name} {sub or ''}".strip())
    assert not missing, f"README walk lacks: {missing}"


def table_commands(readme: Path) -> list[tuple[tuple[str, ...], list[str]]]:
    """Each command of the README's "What it does" table with the options its example shows:
    `lvyue rules list \\| show ID` is two commands, `[--engine duckdb\\|spark]` one option."""
    text = readme.read_text("utf-8").split("## What it does", 1)[1].split("\n## ", 1)[0]
    found = []
    for row in text.splitlines()[2:]:
        cell = row.split(" | ", 1)[0]
        for example in re.findall(r"`lvyue ([^`]+)`", cell):
            example = re.sub(r"\[[^]]*\]", lambda m: m[0].replace("\\|", "/"), example)
            head, *alternatives = (part.strip() for part in example.split("\\|"))
            first = head.split()
            group = first[0] in GROUPS
            words = [first] + [[first[0], *a.split()] for a in alternatives]
            for w in words:
                command = tuple(w[:2]) if group else (w[0],)
                found.append(
                    (command, [t.strip("[]") for t in w if t.lstrip("[").startswith("--")])
                )
    return found


GROUPS = ("rules", "import", "region", "measures", "creators", "db")


def test_every_command_of_the_readme_table_is_walked_with_its_example() -> None:
    walk = [shlex.split(line)[1:] for line in readme_lines(REPO / "README.md")]
    commands = table_commands(REPO / "README.md")
    assert len(commands) >= 25  # the table parsed (rules ×6, import ×4, …)
    missing = []
    for command, options in commands:
        lines = [w for w in walk if tuple(w[: len(command)]) == command]
        if not lines:
            missing.append(" ".join(command))
        for option in options:
            if not any(option in w for w in lines):
                missing.append(f"{' '.join(command)} {option}")
    assert not missing, f"README table examples not walked: {missing}"


def test_readme_walk_from_a_fresh_clone(clone: Path) -> None:
    lines = readme_lines(clone / "README.md")
    assert all(line.startswith(".venv/bin/lvyue ") for line in lines)
    batch = [line for line in lines if shlex.split(line)[1] != "serve"]
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(batch), str(LINE_LIMIT)],
        cwd=clone, env=_env(clone), capture_output=True, text=True,
        timeout=LINE_LIMIT * len(batch),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    failed = [r for r in json.loads(run.stdout) if r["code"] != 0]
    assert not failed, "\n\n".join(f"{r['line']} → exit {r['code']}\n{r['output']}" for r in failed)
    assert (clone / "try" / "penalties.xlsx").read_bytes()[:2] == b"PK"  # a real workbook


def test_readme_serve_line_serves_the_docs(clone: Path) -> None:
    (line,) = [line for line in readme_lines(clone / "README.md") if " serve " in line]
    args = shlex.split(line)[1:]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args[args.index("--port") + 1] = str(port)
    main = "from lvyue.cli.main import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", main, *args], cwd=clone, env=_env(clone),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json") as r:
                    assert r.status == 200 and "/violations" in json.load(r)["paths"]
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)
