"""Sealed copies of values the masker changed, so re-execution gets the real values.

The store keeps every text masked. A value that held a secret (a setup capture, a
checkpointed variable, an item's data or result) is also kept sealed next to it: AES-256-GCM
under a key in `$PRODIGY_HOME/keys/store.key` (0600 in a 0700 directory), never in the
database. Resume, resume-job and dlq retry unseal it; everything that shows or exports
state reads the masked text only.

Threat model (docs/state-store.md): a copy of the database alone (a backup, a file attached
to a bug report, `sqlite3 .dump`) reveals no secret. Whoever can read the key file as well,
i.e. the user's account, can unseal, just as they can read the environment prodigy ran with.
The key is made on first use; losing it makes sealed values unrecoverable, and resume then
refuses rather than running with `***` in their place.

Why `cryptography`: the standard library has no authenticated cipher, and a home-made one
(HMAC keystream plus MAC) is the kind of code no reviewer should have to trust.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from prodigy.core.errors import StoreError

KEY_DIR = "keys"
KEY_NAME = "store.key"
_VERSION = b"\x01"
_NONCE = 12
_KEY_BYTES = 32


def key_path(home: Path) -> Path:
    return home / KEY_DIR / KEY_NAME


class Sealer:
    """Seals and unseals text under the home's key; the key is read (or made) on first use."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._key: bytes | None = None

    def seal(self, text: str, context: str) -> bytes:
        """`text` encrypted and bound to `context` (where it is stored): a sealed value moved
        to another row or column does not unseal."""
        # cryptography is imported on first use: most commands open the store and never
        # seal or unseal anything, and its import costs about a bare interpreter start.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(_NONCE)
        key = self._load(create=True)
        assert key is not None
        sealed = AESGCM(key).encrypt(nonce, text.encode(), context.encode())
        return _VERSION + nonce + sealed

    def unseal(self, blob: bytes, context: str, what: str) -> str:
        """The text sealed in `blob`; StoreError naming `what` if that cannot be done."""
        key = self._load(create=False)
        if key is None:
            raise StoreError(self._lost(what, "the key file is missing"))
        if blob[:1] != _VERSION or len(blob) <= 1 + _NONCE:
            raise StoreError(self._lost(what, "the sealed value is damaged"))
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        try:
            return AESGCM(key).decrypt(nonce, body, context.encode()).decode()
        except InvalidTag:
            raise StoreError(self._lost(what, "the key file does not match it")) from None

    def _lost(self, what: str, why: str) -> str:
        return (
            f"{what} held a secret whose real value is sealed with {self._path}, but {why}; "
            "running again would use `***` in its place. Restore the key file, or start the "
            "run again"
        )

    def _load(self, *, create: bool) -> bytes | None:
        if self._key is not None:
            return self._key
        try:
            key = self._path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
            key = self._create()
        except OSError as exc:
            raise StoreError(f"{self._path}: cannot read the store key: {exc.strerror}") from exc
        if len(key) != _KEY_BYTES:
            raise StoreError(
                f"{self._path}: not a store key ({len(key)} bytes, expected {_KEY_BYTES})"
            )
        self._key = key
        return key

    def _create(self) -> bytes:
        """A new random key, published atomically: two processes creating it at once end up
        with the same key (the second one's link fails and it reads the first one's)."""
        directory = self._path.parent
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700, parents=True)
        directory.chmod(0o700)
        key = secrets.token_bytes(_KEY_BYTES)
        temp = directory / f".{KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, self._path)
            except FileExistsError:
                return self._path.read_bytes()
        finally:
            temp.unlink(missing_ok=True)
        return key
