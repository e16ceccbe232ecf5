"""Mutation check: plant one-line faults in the wire vocabulary and see which tests catch each.

The faults are the ones a tired engineer makes and a suite that builds its expectations from the
module under test cannot see: two enum values swapped, one character of a namespace, URI, action
or selector name changed, a digest constant or the order of its fields changed, a power or System
Defense mapping pointed at a neighbour. Each mutant is applied to a scratch copy of the project,
the tests relevant to its file run against it, and the table says how many tests failed (killed
it). A mutant no test kills is a hole in the suite; the script exits 1 when there is one.

    python scripts/mutants.py                 # every mutant (about half an hour on 2 cores)
    python scripts/mutants.py --list          # the mutants, without running anything
    python scripts/mutants.py --only codes    # mutants whose id contains "codes"
    python scripts/mutants.py --first-kill    # stop each run at its first failing test (faster)
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

SPEC = ("tests/spec",)
SELF_CHECK = "tests/spec/test_spec_mutants.py"
"""The test that this script's mutants still fit the code; left out of the mutants' runs."""
TESTS_BY_FILE: dict[str, tuple[str, ...]] = {
    "src/amtkit/codes.py": (*SPEC, "tests/client/test_client_power.py", "tests/recorded"),
    "src/amtkit/wsman/names.py": (*SPEC, "tests/wsman", "tests/recorded"),
    "src/amtkit/http/digest.py": (*SPEC, "tests/wsman/test_http_digest.py", "tests/recorded",
                                  "tests/simulator/test_sim_client_styles.py",
                                  "tests/simulator/test_sim_digest_hardening.py",
                                  "tests/client/test_client_digest_downgrade.py"),
    "src/amtkit/power.py": (*SPEC, "tests/client/test_client_power.py", "tests/recorded"),
    "simulator/amtsim/backends/power.py": (*SPEC, "tests/client/test_client_power.py"),
    "src/amtkit/defense/model.py": (*SPEC, "tests/defense/test_defense_model.py",
                                    "tests/defense/test_defense_engine.py", "tests/defense/test_defense_safety.py"),
    "src/amtkit/defense/wsman.py": (*SPEC, "tests/defense/test_defense_wsman.py"),
    "src/amtkit/defense/plan.py": (*SPEC, "tests/defense/test_defense_safety.py",
                                   "tests/defense/test_defense_lockout.py"),
    "src/amtkit/defense/client.py": (*SPEC, "tests/defense/test_defense_safety.py"),
}


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str
    start: int
    """Offset of the replaced text in the file."""
    old: str
    new: str

    def apply(self, text: str) -> str:
        assert text[self.start:self.start + len(self.old)] == self.old, self.id
        return text[:self.start] + self.new + text[self.start + len(self.old):]


# -- generators -------------------------------------------------------------------------------------


def _offsets(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _span(lines: list[int], node: ast.AST) -> tuple[int, int]:
    start = lines[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
    end = lines[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
    return start, end


def _enum_value(node: ast.expr) -> ast.Constant | None:
    """The integer literal of an enum member (``X = 5`` or ``X = 5, "meaning"``)."""
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node
    return None


def enum_swaps(path: str) -> Iterator[Mutant]:
    """For every integer enum and flag set: each member's value swapped with the next member's."""
    text = (PROJECT / path).read_text(encoding="utf-8")
    lines = _offsets(text)
    for cls in ast.walk(ast.parse(text)):
        if not isinstance(cls, ast.ClassDef) or not any(
                kind in ast.unparse(base) for base in cls.bases for kind in ("IntEnum", "IntFlag")):
            continue
        members = []
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                value = _enum_value(stmt.value)
                if value is not None:
                    members.append((stmt.targets[0].id, value))
        for (name_a, a), (name_b, b) in zip(members, members[1:], strict=False):
            start_a, end_a = _span(lines, a)
            start_b, end_b = _span(lines, b)
            old = text[start_a:end_b]
            new = text[start_b:end_b] + text[end_a:start_b] + text[start_a:end_a]
            yield Mutant(f"{Path(path).stem}:{cls.name}.{name_a}<->{name_b}", path, start_a, old, new)


def _flip(char: str) -> str:
    if char.isdigit():
        return str((int(char) + 1) % 10)
    if char.isalpha():
        base = ord("a") if char.islower() else ord("A")
        return chr(base + (ord(char) - base + 1) % 26)
    raise ValueError(char)


def _flip_middle(value: str) -> str | None:
    """``value`` with the alphanumeric character nearest its middle changed (a one-character typo)."""
    middle = len(value) // 2
    for distance in range(len(value)):
        for index in (middle + distance, middle - distance):
            if 0 <= index < len(value) and value[index].isascii() and value[index].isalnum():
                return value[:index] + _flip(value[index]) + value[index + 1:]
    return None


def _prose(tree: ast.AST) -> set[int]:
    """Strings that are not wire vocabulary: docstrings and the messages of ``raise`` statements."""
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    ids.add(id(stmt.value))
        if isinstance(node, ast.Raise):
            ids.update(id(inner) for inner in ast.walk(node))
    return ids


def string_flips(path: str, pattern: str = r".+") -> Iterator[Mutant]:
    """Every string literal matching ``pattern`` (docstrings and error messages aside) with one character
    changed."""
    text = (PROJECT / path).read_text(encoding="utf-8")
    lines = _offsets(text)
    tree = ast.parse(text)
    prose = _prose(tree)
    seen: dict[str, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in prose:
            continue
        if not re.fullmatch(pattern, node.value):
            continue
        start, end = _span(lines, node)
        literal = text[start:end]
        flipped = _flip_middle(node.value)
        if flipped is None or node.value not in literal:
            continue
        number = seen[node.value] = seen.get(node.value, 0) + 1
        suffix = f"#{number}" if number > 1 else ""
        yield Mutant(f"{Path(path).stem}:{node.value!r}{suffix}->{flipped!r}", path, start, literal,
                     literal.replace(node.value, flipped, 1))


def int_bumps(path: str) -> Iterator[Mutant]:
    """Every module-level ``NAME: Final = <int>`` constant plus one."""
    text = (PROJECT / path).read_text(encoding="utf-8")
    lines = _offsets(text)
    for stmt in ast.parse(text).body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.value, ast.Constant) \
                and type(stmt.value.value) is int and isinstance(stmt.target, ast.Name):
            start, end = _span(lines, stmt.value)
            yield Mutant(f"{Path(path).stem}:{stmt.target.id}+1", path, start, text[start:end],
                         str(stmt.value.value + 1))


def edit(path: str, label: str, old: str, new: str) -> Mutant:
    """A hand-written mutant: ``old`` (which must occur exactly once in the file) becomes ``new``."""
    text = (PROJECT / path).read_text(encoding="utf-8")
    count = text.count(old)
    if count != 1:
        raise SystemExit(f"mutant {label}: {old!r} occurs {count} times in {path}")
    return Mutant(f"{Path(path).stem}:{label}", path, text.index(old), old, new)


CODES = "src/amtkit/codes.py"
NAMES = "src/amtkit/wsman/names.py"
DIGEST = "src/amtkit/http/digest.py"
POWER = "src/amtkit/power.py"
SIM_POWER = "simulator/amtsim/backends/power.py"
DEFENSE_MODEL = "src/amtkit/defense/model.py"
DEFENSE_WSMAN = "src/amtkit/defense/wsman.py"
DEFENSE_PLAN = "src/amtkit/defense/plan.py"
DEFENSE_CLIENT = "src/amtkit/defense/client.py"


def mapping_mutants() -> list[Mutant]:
    """Power and System Defense mappings, and the digest arithmetic: hand-written one-line faults."""
    return [
        # power: what the named helpers request, what an action ends in, what passes through off
        edit(POWER, "off()->OFF_HARD", "self.request(PowerAction.OFF_HARD if hard else PowerAction.OFF)",
             "self.request(PowerAction.OFF_HARD if hard else PowerAction.OFF_HARD)"),
        edit(POWER, "off(hard)->OFF", "self.request(PowerAction.OFF_HARD if hard else PowerAction.OFF)",
             "self.request(PowerAction.OFF if hard else PowerAction.OFF)"),
        edit(POWER, "off(graceful)->OFF", "PowerAction.OFF_HARD_GRACEFUL if hard else PowerAction.OFF_GRACEFUL",
             "PowerAction.OFF_HARD_GRACEFUL if hard else PowerAction.OFF"),
        edit(POWER, "cycle()->CYCLE_HARD", "PowerAction.CYCLE_GRACEFUL if graceful else PowerAction.CYCLE)",
             "PowerAction.CYCLE_GRACEFUL if graceful else PowerAction.CYCLE_HARD)"),
        edit(POWER, "reset()->CYCLE_HARD", "PowerAction.RESET_GRACEFUL if graceful else PowerAction.RESET)",
             "PowerAction.RESET_GRACEFUL if graceful else PowerAction.CYCLE_HARD)"),
        edit(POWER, "reset(graceful)->RESET", "PowerAction.RESET_GRACEFUL if graceful else PowerAction.RESET)",
             "PowerAction.RESET if graceful else PowerAction.RESET)"),
        edit(POWER, "on()->CYCLE", "self.request(PowerAction.ON)", "self.request(PowerAction.CYCLE)"),
        edit(POWER, "busy-not-in-progress", "if value in (ReturnValue.BUSY, ReturnValue.IN_USE):",
             "if value in (ReturnValue.IN_USE,):"),
        edit(POWER, "ManagedElement->AMT", '"ManagedElement": MANAGED_SYSTEM}',
             '"ManagedElement": EndpointReference(MANAGED_SYSTEM.resource_uri, names.AMT_SUBSYSTEM_SELECTORS)}'),
        edit(CODES, "ACTION_RESULT[OFF]->OFF_HARD", "PowerAction.OFF: PowerState.OFF_SOFT,",
             "PowerAction.OFF: PowerState.OFF_HARD,"),
        edit(CODES, "ACTION_RESULT[SLEEP]->HIBERNATE", "PowerAction.SLEEP: PowerState.SLEEP_DEEP,",
             "PowerAction.SLEEP: PowerState.HIBERNATE,"),
        edit(CODES, "ACTION_RESULT[HIBERNATE]->OFF_SOFT", "PowerAction.HIBERNATE: PowerState.HIBERNATE,",
             "PowerAction.HIBERNATE: PowerState.OFF_SOFT,"),
        edit(CODES, "alias soft-off->OFF_HARD", '"SOFT_OFF": "OFF"', '"SOFT_OFF": "OFF_HARD"'),
        edit(CODES, "alias hard-off->OFF", '"HARD_OFF": "OFF_HARD"', '"HARD_OFF": "OFF"'),
        edit(CODES, "pt_status offset 32767", "return value - 32768 if value >= 32768 else None",
             "return value - 32767 if value >= 32768 else None"),
        edit(CODES, "from_return_value offset 32767", "return value - 32768 if value >= 32768 else value",
             "return value - 32767 if value >= 32768 else value"),
        edit(SIM_POWER, "sleep offers OFF_HARD", "return [PowerAction.ON, PowerAction.OFF, PowerAction.RESET]",
             "return [PowerAction.ON, PowerAction.OFF_HARD, PowerAction.RESET]"),
        edit(SIM_POWER, "on offers CYCLE_HARD", "offered = [PowerAction.RESET, PowerAction.OFF, PowerAction.CYCLE,",
             "offered = [PowerAction.RESET, PowerAction.OFF, PowerAction.CYCLE_HARD,"),
        edit(SIM_POWER, "not offered->1", "return int(ReturnValue.UNKNOWN_ERROR)  # Rule 4",
             "return int(ReturnValue.NOT_SUPPORTED)  # Rule 4"),
        # System Defense: profile actions, wire property mapping
        edit(DEFENSE_MODEL, "profile 0 drops", "FilterProfile.PASS_WITH_STATISTICS: Action.PASS,",
             "FilterProfile.PASS_WITH_STATISTICS: Action.DROP,"),
        edit(DEFENSE_MODEL, "profile 4 passes", "FilterProfile.DROP: Action.DROP,", "FilterProfile.DROP: Action.PASS,"),
        edit(DEFENSE_MODEL, "profile 1 not counted",
             "return self in (FilterProfile.PASS_WITH_STATISTICS, FilterProfile.DROP_WITH_STATISTICS)",
             "return self in (FilterProfile.PASS_WITH_STATISTICS,)"),
        edit(DEFENSE_WSMAN, "src/dest swapped", 'for side, network in (("Src", f.src), ("Dest", f.dst)):',
             'for side, network in (("Src", f.dst), ("Dest", f.src)):'),
        edit(DEFENSE_WSMAN, "ports swapped", 'for side, ports in (("Src", f.src_ports), ("Dest", f.dst_ports)):',
             'for side, ports in (("Src", f.dst_ports), ("Dest", f.src_ports)):'),
        edit(DEFENSE_WSMAN, "Tx/Rx defaults swapped",
             'for prefix, default in (("Tx", policy.transmit_default), ("Rx", policy.receive_default)):',
             'for prefix, default in (("Tx", policy.receive_default), ("Rx", policy.transmit_default)):'),
        edit(DEFENSE_WSMAN, "IPv4 hex width 7", 'f"{value:0{8 if version == 4 else 32}x}"',
             'f"{value:0{7 if version == 4 else 32}x}"'),
        edit(DEFENSE_WSMAN, "anti-spoofing on=2", "ANTI_SPOOFING_ON = 1", "ANTI_SPOOFING_ON = 2"),
        edit(DEFENSE_WSMAN, "62 filters->63", "MAX_FILTERS_PER_POLICY = 62", "MAX_FILTERS_PER_POLICY = 63"),
        edit(DEFENSE_WSMAN, "16 chars->17", "MAX_NAME_LENGTH = 16\n", "MAX_NAME_LENGTH = 17\n"),
        # System Defense: the precedence rule, the lockout check's managers, make before break
        edit(DEFENSE_MODEL, "lowest precedence wins", "return max(activated, key=precedence, default=None)",
             "return min(activated, key=precedence, default=None)"),
        edit(DEFENSE_MODEL, "tie: later activation wins", "return max(activated, key=precedence, default=None)",
             "return max(reversed(list(activated)), key=precedence, default=None)"),
        edit(DEFENSE_PLAN, "file-named manager unchecked", "specs = _named_managers(fs)", "specs = ()"),
        edit(DEFENSE_CLIENT, "old set removed first", "created = self._create(policy, [port], minutes)\n        try:\n"
             "            after = self._verify(created, policy, expected, port, minutes)\n        except exc.AMTError:\n"
             "            self._undo(created.eprs)\n            raise\n        retired = _Retired.of(state)",
             "self._retire(_Retired.of(state))\n        created = self._create(policy, [port], minutes)\n"
             "        try:\n            after = self._verify(created, policy, expected, port, minutes)\n"
             "        except exc.AMTError:\n            self._undo(created.eprs)\n            raise\n"
             "        retired = _Retired(activations=[], policies=[], filters=[])"),
        edit(DEFENSE_CLIENT, "no room not refused", "        if force:\n            return True\n",
             "        if True:\n            return True\n"),
        edit(DEFENSE_CLIENT, "nothing put back", "            restored = self._restore(previous)",
             "            restored = False"),
        # digest: constants and the order of the hashed fields
        edit(DIGEST, "HA2 uri:method", 'ha2 = _md5(f"{method}:{uri}")', 'ha2 = _md5(f"{uri}:{method}")'),
        edit(DIGEST, "response cnonce/nc swapped", '_md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")',
             '_md5(f"{ha1}:{nonce}:{cnonce}:{nc}:{qop}:{ha2}")'),
        edit(DIGEST, "response without qop field", '_md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")',
             '_md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{ha2}")'),
        edit(DIGEST, "HA1 realm:user", 'return _md5(f"{self.username}:{realm}:{self.password}")',
             'return _md5(f"{realm}:{self.username}:{self.password}")'),
        edit(DIGEST, "nc decimal", 'nc_text = f"{nc:08x}"', 'nc_text = f"{nc:08d}"'),
        edit(DIGEST, "nc 7 digits", 'nc_text = f"{nc:08x}"', 'nc_text = f"{nc:07x}"'),
        edit(DIGEST, "qop auth-int hashed", ':{cnonce}:auth:{ha2}', ':{cnonce}:auth-int:{ha2}'),
        edit(DIGEST, "qop auth-int sent", '",qop=auth,nc=', '",qop=auth-int,nc='),
        edit(DIGEST, "qop left out", 'self._with_qop = bool(challenge.qop)', 'self._with_qop = False'),
        edit(DIGEST, "challenge stale true", '"true" if stale else "false"', '"false" if stale else "false"'),
        edit(DIGEST, "downgrade allowed", "if not challenge.qop and not allow_no_qop:", "if False:"),
        edit(DIGEST, "any algorithm", "if algorithm.upper() != MD5:", "if False:"),
    ]


def all_mutants() -> list[Mutant]:
    mutants = list(enum_swaps(CODES))
    mutants += string_flips(NAMES)
    mutants += int_bumps(NAMES)
    mutants += enum_swaps(DEFENSE_MODEL)
    mutants += string_flips(DEFENSE_WSMAN, r"(Hdr|Filter|Policy|Tx|Rx|Anti|Action|Instance|Creation|System)\w*")
    mutants += string_flips(DIGEST, r"(auth|MD5|Digest|qop|nc|cnonce|nonce|realm|uri|response|stale|username)")
    mutants += mapping_mutants()
    return mutants


# -- running --------------------------------------------------------------------------------------


def scratch_copy() -> Path:
    root = Path(tempfile.mkdtemp(prefix="amtkit-mutants-"))
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".hypothesis", "site", "*.egg-info",
                                    ".pytest_cache", ".mypy_cache", ".ruff_cache")
    for name in ("src", "simulator", "tests", "filters", "scripts", "pyproject.toml"):
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    return root


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def run_tests(root: Path, tests: tuple[str, ...], first_kill: bool) -> tuple[int, list[str], str]:
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root / 'simulator'}",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "pytest", "-q", "--tb=no", "-rfE", "-p", "no:cacheprovider",
               "--hypothesis-seed=0", f"--ignore={SELF_CHECK}",  # it reads the mutated sources: no verdict
               *(["-x"] if first_kill else []), *tests]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    return done.returncode, _FAILED.findall(done.stdout), done.stdout[-2000:]


def _short(test_id: str) -> str:
    """``tests/spec/test_x.py::test_y[p]`` -> ``test_x::test_y[p]``."""
    path, _, rest = test_id.partition("::")
    return f"{Path(path).stem}::{rest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="run mutants whose id contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--first-kill", action="store_true", help="stop each run at its first failing test")
    args = parser.parse_args(argv)
    mutants = [m for m in all_mutants() if not args.only or any(part in m.id for part in args.only)]
    if args.list:
        for mutant in mutants:
            print(mutant.id)
        print(f"{len(mutants)} mutants")
        return 0
    root = scratch_copy()
    survivors: list[Mutant] = []
    started = time.monotonic()
    try:
        code, failed, tail = run_tests(root, SPEC, first_kill=False)
        if code != 0:
            print(f"the unmutated suite fails; fix that first:\n{tail}", file=sys.stderr)
            return 2
        print(f"{'mutant':<72} {'killed by':>9}  first killing tests")
        for mutant in mutants:
            target = root / mutant.path
            original = target.read_text(encoding="utf-8")
            target.write_text(mutant.apply(original), encoding="utf-8")
            try:
                code, failed, tail = run_tests(root, TESTS_BY_FILE[mutant.path], args.first_kill)
            finally:
                target.write_text(original, encoding="utf-8")
            if code == 0:
                survivors.append(mutant)
            killers = ", ".join(_short(name) for name in failed[:2]) or ("-" if code == 0 else tail[-80:])
            count = f"{len(failed)}{'+' if args.first_kill and failed else ''}" if code else "SURVIVED"
            print(f"{mutant.id[:72]:<72} {count:>9}  {killers[:120]}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{len(mutants)} mutants, {len(mutants) - len(survivors)} killed, {len(survivors)} survived "
          f"({minutes:.1f} min)")
    for mutant in survivors:
        print(f"SURVIVED {mutant.id} ({mutant.path})")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
