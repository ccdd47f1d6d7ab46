"""Starting a front-door runner (run_stack.py, run_services.py, make stack) as a learner
does, in a terminal of its own, and waiting until it says it is ready."""

import subprocess


def start(command: list, ready: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """A runner, once it prints a line starting with `ready`; and what it printed."""
    runner = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # as in a terminal of its own: our signals are not its
    )
    printed = []
    for line in runner.stdout:
        printed.append(line)
        if line.startswith(ready):
            return runner, "".join(printed)
    runner.wait()
    raise AssertionError(f"{command[-1]} ended before it was ready:\n" + "".join(printed))
