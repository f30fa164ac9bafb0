"""Reading the tracebacks the `server_tracebacks` fixture (conftest.py) collects."""


def own_frames(formatted_traceback: str, last: int | None = None) -> str:
    """The project's own frames of a traceback (the `last` of them), and the exception."""
    lines = formatted_traceback.rstrip().splitlines()
    keep = [
        f"{line.strip()} :: {lines[i + 1].strip()}"
        for i, line in enumerate(lines[:-1])
        if line.strip().startswith('File "') and "/kehu/" in line
    ]
    return "\n".join([*keep[-(last or len(keep)) :], lines[-1]])
