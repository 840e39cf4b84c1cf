"""Protection at the door: keyed pseudonyms for respondent ids, and the project key they need.

A coupon number or a case code links records (a recruit to her recruiter, a wave to the next),
but in the wrong hands it also links a record to a person (coupon logs, case files). Before
data reach analysis, such ids are replaced by a pseudonym computed with HMAC-SHA256 under a
project key (RFC 2104; Python's :mod:`hmac`): the same id always gives the same pseudonym, so
links survive, yet without the key nobody can go from a pseudonym back to the id, nor test a
guessed coupon number.

The key is 32 random bytes kept in a file *outside* every data folder — by default
``~/.config/research_kit/project.key`` (or ``$XDG_CONFIG_HOME/research_kit/project.key``,
or the file named by the ``RESEARCH_KIT_KEY_FILE`` environment variable). It is created on
first use. Keep a copy in a safe place: without the same key, the next wave's pseudonyms will
not match this one's.

Examples
--------
>>> import pandas as pd
>>> key = b"k" * 32
>>> ids = pseudonymise_values(pd.Series(["1234", "5678", "1234", ""]), key)
>>> ids[0] == ids[2], ids[3], ids[0].startswith("ps-")
(True, '', True)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

from research_kit.ingest.exceptions import PseudonymKeyError

__all__ = ["ProjectKey", "project_key", "default_key_path", "pseudonymise_values", "pseudonymise", "KEY_ENV"]

log = logging.getLogger(__name__)

#: Environment variable naming the key file.
KEY_ENV = "RESEARCH_KIT_KEY_FILE"
_PREFIX = "ps-"


@dataclass(frozen=True)
class ProjectKey:
    """The secret of a project's pseudonyms, where it is kept, and whether it was just created."""

    secret: bytes
    path: Path | None
    created: bool = False

    def __repr__(self) -> str:  # never print the secret
        return f"ProjectKey(path={self.path}, created={self.created})"


def default_key_path() -> Path:
    """Where the project key is kept unless told otherwise (see module docs)."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "research_kit" / "project.key"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def project_key(key: str | Path | bytes | ProjectKey | None = None, *, create: bool = True,
                data_folders: Iterable[str | Path] = ()) -> ProjectKey:
    """The project key: given, read from its file, or created there on first use.

    Parameters
    ----------
    key : str, Path, bytes or ProjectKey, optional
        The key file, or the secret itself (at least 16 bytes). By default :func:`default_key_path`.
    create : bool
        Create the key file when it does not exist (with owner-only permissions).
    data_folders : iterable of paths
        Folders holding data (the exports' folders, the output folder); the key must not be inside
        any of them.

    Raises
    ------
    PseudonymKeyError
        The key file is missing (and ``create`` is false), unreadable, too short, or inside a
        data folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> k = project_key(folder / "project.key")
    >>> k.created, len(k.secret), project_key(folder / "project.key").secret == k.secret
    (True, 32, True)
    """
    if isinstance(key, ProjectKey):
        return key
    if isinstance(key, (bytes, bytearray)):
        if len(key) < 16:
            raise PseudonymKeyError("A pseudonym key must be at least 16 bytes long; use the key file research_kit creates.")
        return ProjectKey(bytes(key), None)
    path = Path(key).expanduser() if key is not None else default_key_path()
    for folder in data_folders:
        folder = Path(folder)
        if _inside(path, folder):
            raise PseudonymKeyError(
                f"The pseudonym key {path} is inside the data folder {folder}. Whoever gets the data would also get "
                "the key. Move the key out of every data folder (e.g. to ~/.config/research_kit/project.key) and give "
                "its new path.")
    created = False
    if not path.exists():
        if not create:
            raise PseudonymKeyError(f"There is no pseudonym key at {path}. Give the path of the project's key file, "
                                    "or let research_kit create one.")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by another process: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            created = True
            log.warning("Created a new pseudonym key at %s. Keep a copy in a safe place, outside the data folders: "
                        "later waves need the same key to link respondents.", path)
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise PseudonymKeyError(f"The pseudonym key {path} cannot be read ({exc}). It must hold the hex text "
                                "research_kit wrote; restore it from your safe copy.") from exc
    if len(secret) < 16:
        raise PseudonymKeyError(f"The pseudonym key {path} is too short; restore it from your safe copy.")
    return ProjectKey(secret, path, created)


def pseudonymise_values(values: pd.Series, key: bytes | ProjectKey) -> pd.Series:
    """Replace each non-blank value by ``ps-`` and 16 hex digits of its HMAC-SHA256 under ``key``."""
    secret = key.secret if isinstance(key, ProjectKey) else key
    text = values.astype(object).where(values.notna(), "")
    uniques = pd.unique(text.to_numpy())
    mapping = {u: (_PREFIX + hmac.new(secret, u.encode("utf-8"), hashlib.sha256).hexdigest()[:16]) if u else ""
               for u in uniques}
    return text.map(mapping).astype(object)


def pseudonymise(frame: pd.DataFrame, columns: Iterable[str], key: bytes | ProjectKey) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` (those present) pseudonymised; ``attrs['pseudonymised']`` lists them."""
    out = frame.copy()
    done = []
    for col in columns:
        if col in out.columns:
            out[col] = pseudonymise_values(out[col], key).astype(frame[col].dtype)
            done.append(col)
    out.attrs = {**frame.attrs, "pseudonymised": tuple(sorted(set(frame.attrs.get("pseudonymised", ())) | set(done)))}
    return out
