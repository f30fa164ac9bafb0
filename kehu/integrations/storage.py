"""Uploaded and exported files live in a private directory under KEHU_VAR_DIR, never served
as static or media files: only the views of their owner stream them."""

import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone


def transfer_dir() -> Path:
    root = Path(getattr(settings, "KEHU_TRANSFER_DIR", None) or Path(settings.VAR_DIR) / "transfer")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def new_path(kind: str, suffix: str) -> tuple[str, Path]:
    """A fresh private file name: (relative name to store, absolute path)."""
    folder = transfer_dir() / kind
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    relative = f"{kind}/{uuid.uuid4().hex}{suffix}"
    return relative, transfer_dir() / relative


def absolute(relative: str) -> Path | None:
    if not relative:
        return None
    path = (transfer_dir() / relative).resolve()
    if transfer_dir().resolve() not in path.parents:
        return None
    return path


def remove(relative: str) -> None:
    if (path := absolute(relative)) is not None:
        path.unlink(missing_ok=True)


def remove_files_older_than(days: int) -> int:
    """Delete stored uploads and exports older than `days`; returns how many were removed."""
    cutoff = (timezone.now() - timedelta(days=days)).timestamp()
    removed = 0
    for kind in ("imports", "exports"):
        folder = transfer_dir() / kind
        if not folder.exists():
            continue
        for entry in os.scandir(folder):
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
    return removed
