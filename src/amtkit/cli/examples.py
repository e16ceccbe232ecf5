"""One example (or two) for every command's ``--help``, attached when the command is looked up.

Kept in one table so every command has one and a test walking the command tree can insist on it: a
command added without an example fails ``tests/cli/test_cli_help.py``.
"""

from __future__ import annotations

import click

__all__ = ["EXAMPLES", "with_example"]

EXAMPLES: dict[str, tuple[str, ...]] = {
    "boot": ("amtkit boot 10.0.0.5 pxe --then reset",),
    "completion": ("amtkit completion bash > ~/.local/share/bash-completion/completions/amtkit",),
    "defense apply": ("amtkit defense apply 10.0.0.5 --filters quarantine-strict --manager 10.0.0.2 --timeout 3600",),
    "defense check": ("amtkit defense check my-filters.xml --manager 10.0.0.2",),
    "defense ping": ("amtkit defense ping 10.0.0.5 --manager 10.0.0.2",),
    "defense remove": ("amtkit defense remove 10.0.0.5",),
    "defense show": ("amtkit defense show 10.0.0.5 --json",),
    "diagnose": ("amtkit diagnose 10.0.0.5 --feature defense", "amtkit diagnose @lab.txt --json > ladders.json"),
    "discover": ("amtkit discover 10.0.0.0/24", "amtkit discover @hosts.txt --json > found.json"),
    "audit log": ("amtkit audit log 10.0.0.5 --since 7d",),
    "events listen": ("amtkit events listen --port 16990",),
    "events log": ("amtkit events log 10.0.0.5 --since 12h",),
    "events merge": ("amtkit events merge other-manager.db",),
    "events query": ("amtkit events query --host 10.0.0.5 --kind lockout --since 7d",),
    "events subscribe": ("amtkit events subscribe 10.0.0.0/24 --url http://10.0.0.2:16990/events",),
    "events subscriptions": ("amtkit events subscriptions 10.0.0.5",),
    "events tail": ("amtkit events tail -f",),
    "events unsubscribe": ("amtkit events unsubscribe 10.0.0.5 --all",),
    "fingerprint": ("amtkit fingerprint 10.0.0.5", "amtkit fingerprint 10.0.0.7 --pin-file pins.txt --allow-old-tls"),
    "identify": ("amtkit identify 10.0.0.5", "amtkit identify 10.0.0.1-40 --csv"),
    "ider boot": ("amtkit ider boot 10.0.0.5 --cd rescue.iso",),
    "inventory": ("amtkit inventory 10.0.0.5 --json",),
    "job list": ("amtkit job list",),
    "job resume": ("amtkit job resume 12",),
    "job show": ("amtkit job show 12 --json",),
    "log": ("amtkit log --host 10.0.0.5 --since 2024-05-01",),
    "log verify": ("amtkit log verify",),
    "power request": ("amtkit power request 10.0.0.5 off-hard --no-check", "amtkit power request 10.0.0.1-40 8"),
    "power status": ("amtkit power status 10.0.0.5 --json", "amtkit power status store:amt",
                     "amtkit power status @old-floor.txt --generation eoi --csv > power.csv",
                     "amtkit power status 10.0.0.7 --pin-file pins.txt --allow-old-tls"),
    "power wait": ("amtkit power wait 10.0.0.5 on --within 120", "amtkit power wait 10.0.0.0/24 on --within 300"),
    "quarantine apply": ("amtkit quarantine apply 10.0.0.7 --manager 10.0.0.2 --reason 'malware alert'",),
    "quarantine release": ("amtkit quarantine release 10.0.0.7",),
    "quarantine run": ("amtkit quarantine run --watch 60",),
    "quarantine status": ("amtkit quarantine status --all",),
    "sol": ("amtkit sol 10.0.0.5",),
    "wsman create": ("amtkit wsman create 10.0.0.5 AMT_IPHeadersFilter -i filter.json",),
    "wsman delete": ("amtkit wsman delete 10.0.0.5 AMT_IPHeadersFilter -s InstanceID='Intel(r) AMT:IP Filter 3'",),
    "wsman enumerate": ("amtkit wsman enumerate 10.0.0.5 CIM_SoftwareIdentity --json",),
    "wsman get": ("amtkit wsman get 10.0.0.5 AMT_GeneralSettings",
                  "amtkit wsman get 10.0.0.5 CIM_SoftwareIdentity -s InstanceID=AMT"),
    "wsman invoke": ("amtkit wsman invoke 10.0.0.5 AMT_SystemDefensePolicy GetTimeout -s InstanceID='...'",),
    "wsman put": ("amtkit wsman put 10.0.0.5 AMT_GeneralSettings -k PingResponseEnabled=false",),
}
for _action in ("on", "off", "off-hard", "off-graceful", "cycle", "reset", "reset-graceful", "sleep", "hibernate",
                "nmi"):
    EXAMPLES[f"power {_action}"] = (f"amtkit power {_action} 10.0.0.5" + (" --wait 60" if _action in (
        "on", "off", "cycle") else ""),)


def with_example(command: click.Command, path: str) -> None:
    """Give ``command`` (called ``path`` below ``amtkit``) its example as the help's epilog, once."""
    examples = EXAMPLES.get(path)
    if examples and not command.epilog:
        # \b keeps click from re-wrapping the lines.
        command.epilog = "\b\n" + ("Examples:" if len(examples) > 1 else "Example:") + "\n" + "\n".join(
            f"  {line}" for line in examples)
