"""The command tree as a whole (issue #13): an example in every help text, completion scripts, the CLI
reference in docs/cli.md generated from the tree, and one JSON error shape for every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from amtkit.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
ERROR_KEYS = {"ok", "error", "category", "message", "host", "hint", "exit_code"}


def leaves() -> list[tuple[str, click.Command]]:
    found = []

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])  # type: ignore[arg-type]
            if not command.invoke_without_command:
                return
        found.append((" ".join(path), command))

    walk(main, [])
    return [(path, command) for path, command in found if path]


@pytest.mark.parametrize("path", [path for path, _ in leaves()])
def test_every_command_help_has_an_example(path: str) -> None:
    result = CliRunner().invoke(main, [*path.split(), "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert "Example:" in result.output or "Examples:" in result.output
    example = result.output.split("Example", 1)[1].splitlines()[1].strip()
    assert example.startswith(f"amtkit {path}"), example


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_each_shell(shell: str) -> None:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0 and "_AMTKIT_COMPLETE" in result.output


def test_the_cli_reference_in_the_docs_is_the_command_tree() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def placeholder(param: click.Argument) -> list[str]:
    count = 1 if param.nargs in (1, -1) else param.nargs
    if isinstance(param.type, click.Choice):
        return [str(param.type.choices[0])] * count
    if isinstance(param.type, click.types.IntParamType):
        return ["1"] * count
    return ["127.0.0.1" if (param.name or "") in ("host", "hosts", "targets") else "x"] * count


SERVING = {"events listen"}
"""Commands that serve until interrupted: given arguments that work, they would not return."""
JSON_COMMANDS = [(path, command) for path, command in leaves()
                 if any(p.name == "as_json" for p in command.params) and path not in SERVING]


@pytest.mark.parametrize("path", [path for path, _ in JSON_COMMANDS])
def test_every_json_error_has_the_same_keys(path: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AMT_PASSWORD", raising=False)
    monkeypatch.setenv("AMTKIT_STORE", str(tmp_path / "store.db"))
    command = dict(JSON_COMMANDS)[path]
    args = [*path.split()]
    for param in command.params:
        if isinstance(param, click.Argument) and param.required:
            args += placeholder(param)
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    args += ["--json"] + (["--port", "1"] if "--port" in names else []) + (
        ["--timeout", "1"] if "--timeout" in names else [])
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.exit_code == 0:
        return  # nothing failed (a listing of an empty store): no error to check
    assert lines, (args, result.output)
    data = json.loads(lines[-1])
    if data.get("ok") is False and "error" in data:
        assert ERROR_KEYS <= set(data), (path, sorted(data))
        assert data["exit_code"] == result.exit_code
