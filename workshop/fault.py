"""Switch a fault of the troubleshooting exercise on or off, while the services run.

    python -m workshop.fault iss-latency      # or: make fault NAME=iss-latency
    python -m workshop.fault off              # or: make fault NAME=off

It rewrites faults/flags.json (FLAGD_OFFLINE_FLAG_SOURCE_PATH names another file), in
flagd's flag-definition format, with that fault's flag on and the others off. Every
service re-reads the file within a second (see common/faults.py): natively, and in
Docker, where the same folder is mounted into the containers. Nothing restarts.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common.faults import FAULTS, flags_file

OFF = "off"

# Where each fault shows first, for whoever switched it on.
SYMPTOMS = {
    "iss-latency": "slow answers: the latency of the ISS distance service on the dashboard",
    "iss-errors": "server errors: the error rate of the ISS distance service and the gateway",
    "slow-geocoder": "slow answers: the latency of the geolocator on the dashboard",
    "wrong-place": "no metric moves: the answers are wrong, and only the geolocator's logs "
    "say why (docs/08-troubleshooting-exercise.md has the log query)",
}


class UnknownFaultError(ValueError):
    """A name that is neither a fault nor `off`."""


def flag_definitions(fault: str | None) -> dict:
    """The flag file with `fault` on (None: all off), in flagd's format."""
    return {
        "$schema": "https://flagd.dev/schema/v0/flags.json",
        "flags": {
            name: {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "on" if name == fault else "off",
                "metadata": {"description": description},
            }
            for name, description in FAULTS.items()
        },
    }


def render(definitions: dict) -> str:
    return json.dumps(definitions, indent=2, ensure_ascii=False) + "\n"


def switch_fault(name: str, path: Path | None = None) -> None:
    """Switch fault `name` on and every other off, or all off for "off".

    Raises UnknownFaultError for any other name, before touching the file.
    """
    if name != OFF and name not in FAULTS:
        known = ", ".join(choices())
        raise UnknownFaultError(f"no fault is called {name!r}; choose one of: {known}")
    write(path or flags_file(), render(flag_definitions(None if name == OFF else name)))


def write(path: Path, text: str) -> None:
    """Replace the file whole: a service that reads it meanwhile sees the old or the new.

    A new file renamed over the old one, in the same folder, which is also what a
    container that mounts the folder sees change (a mount of the file alone would
    keep showing the old one).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".flags-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        # Readable by the containers' user, whatever user wrote it (mkstemp makes it 0600).
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def choices() -> list[str]:
    return [*FAULTS, OFF]


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workshop.fault",
        description=__doc__,
        epilog="faults:\n" + "\n".join(f"  {n:14} {d}" for n, d in FAULTS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", help=f"a fault, or {OFF!r} to switch them all off")
    name = parser.parse_args(arguments).name
    if not name:
        print(
            f"usage: make fault NAME=<name|{OFF}>, the name one of: {', '.join(choices())}",
            file=sys.stderr,
        )
        return 2
    path = flags_file()
    try:
        switch_fault(name, path)
    except UnknownFaultError as error:
        print(f"make fault: {error}", file=sys.stderr)
        return 2
    if name == OFF:
        print(f"Every fault is off ({path}). The services answer normally within a second.")
        return 0
    print(f"Switched on {name}: {FAULTS[name]} ({path}).")
    print("The services read it within a second; no restart. Submit the form, or run the load")
    print(f"generator, and look for {SYMPTOMS[name]}.")
    print(f"Switch it off with: make fault NAME={OFF}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
