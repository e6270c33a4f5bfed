"""Accounts: names, roles and argon2id password hashes, with a lock-out after repeated failed logins.

The hash never leaves this module: ``User`` carries no hash, and ``authenticate`` answers only
"this user" or ``None``. Every change to an account is recorded in the audit log (without the hash).

The lock-out lives in the database, so it binds every server process alike: each login attempt is
counted, atomically, *before* its password is checked, and the ``MAX_FAILED_LOGINS``-th attempt since
the last success locks the account. However many workers or concurrent requests, one account gets at
most ``MAX_FAILED_LOGINS`` password checks per ``LOCK_OUT``.

``session_epoch`` ends sessions: every session cookie carries the epoch it was issued under
(``web/auth.py``), and raising it (``end_sessions``, a password or role change, a lock-out) makes every
older cookie of the account worthless at its next request.

None of these writes changes a public page, so none raises the data version (``Store._write(public=False)``):
a stream of failed logins does not empty the page cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case, delete, insert, literal, or_, select, update

from civicwatch.errors import UsageError
from civicwatch.store import audit
from civicwatch.store.db import Store
from civicwatch.store.schema import users

ROLES = ("viewer", "researcher", "admin")  # each role can do what the ones before it can
MIN_PASSWORD_LENGTH = 12  # OWASP ASVS 2.1.1; existing shorter passwords still work until changed
MAX_FAILED_LOGINS = 5  # then the account is locked for LOCK_OUT
LOCK_OUT = timedelta(minutes=15)

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile (64 MiB, 3 passes).
_hasher = PasswordHasher()
# Checked against when the name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


@dataclass(frozen=True)
class User:
    """An account as the rest of civicwatch sees it (no password hash)."""

    id: int
    name: str
    role: str
    created_at: datetime
    locked_until: datetime | None = None
    session_epoch: int = 0  # the session generation a cookie must carry (see ``end_sessions``)

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or above it (admin > researcher > viewer)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(role, f"unknown role (choose one of: {', '.join(ROLES)})")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError("password", f"too short: at least {MIN_PASSWORD_LENGTH} characters")


def _user(row: object) -> User:
    return User(
        id=row.id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
        locked_until=row.locked_until,  # type: ignore[attr-defined]
        session_epoch=row.session_epoch,  # type: ignore[attr-defined]
    )


_PUBLIC_COLUMNS = (users.c.id, users.c.name, users.c.role, users.c.created_at, users.c.locked_until,
                   users.c.session_epoch)
_NEXT_EPOCH = users.c.session_epoch + 1


def add_user(store: Store, name: str, role: str, password: str, *, actor: str = "cli") -> User:
    """Create an account; a taken name, an unknown role or a short password is a ``UsageError``."""
    name = name.strip()
    if not name:
        raise UsageError("name", "a user needs a name")
    _check_role(role)
    _check_password(password)
    password_hash = _hasher.hash(password)
    with store._write(public=False) as connection:
        if connection.execute(select(users.c.id).where(users.c.name == name)).first() is not None:
            raise UsageError(name, "a user with this name exists already")
        new_id = connection.execute(
            insert(users)
            .values(name=name, role=role, password_hash=password_hash, created_at=datetime.now(UTC))
            .returning(users.c.id)
        ).scalar_one()
        audit.record(connection, actor=actor, item_kind="user", item_id=name, action="add",
                     before=None, after={"name": name, "role": role}, reason=None)
    found = get_user(store, int(new_id))
    assert found is not None
    return found


def get_user(store: Store, user_id: int) -> User | None:
    """The account with this id, or None (removed since, or never there)."""
    with store._read() as connection:
        row = connection.execute(select(*_PUBLIC_COLUMNS).where(users.c.id == user_id)).first()
    return None if row is None else _user(row)


def list_users(store: Store) -> list[User]:
    """Every account, by name."""
    with store._read() as connection:
        rows = connection.execute(select(*_PUBLIC_COLUMNS).order_by(users.c.name)).all()
    return [_user(row) for row in rows]


def remove_user(store: Store, name: str, *, actor: str = "cli") -> None:
    """Delete an account (its sessions stop working at their next request); unknown name: ``UsageError``."""
    with store._write(public=False) as connection:
        row = connection.execute(select(*_PUBLIC_COLUMNS).where(users.c.name == name)).first()
        if row is None:
            raise UsageError(name, "no user with this name")
        connection.execute(delete(users).where(users.c.id == row.id))
        audit.record(connection, actor=actor, item_kind="user", item_id=name, action="remove",
                     before={"name": name, "role": row.role}, after=None, reason=None)


def set_role(store: Store, name: str, role: str, *, actor: str = "cli") -> User:
    """Give an account another role; unknown name or role: ``UsageError``."""
    _check_role(role)
    with store._write(public=False) as connection:
        row = connection.execute(select(*_PUBLIC_COLUMNS).where(users.c.name == name)).first()
        if row is None:
            raise UsageError(name, "no user with this name")
        # The role is read afresh on each request anyway; ending the sessions makes a demotion unmistakable.
        connection.execute(update(users).where(users.c.id == row.id).values(role=role, session_epoch=_NEXT_EPOCH))
        audit.record(connection, actor=actor, item_kind="user", item_id=name, action="role",
                     before={"role": row.role}, after={"role": role}, reason=None)
    found = get_user(store, int(row.id))
    assert found is not None
    return found


def set_password(store: Store, name: str, password: str, *, actor: str = "cli") -> None:
    """Replace an account's password, lift a lock-out and end every session of the account."""
    _check_password(password)
    with store._write(public=False) as connection:
        changed = connection.execute(
            update(users)
            .where(users.c.name == name)
            .values(password_hash=_hasher.hash(password), failed_logins=0, locked_until=None,
                    session_epoch=_NEXT_EPOCH)
        ).rowcount
        if not changed:
            raise UsageError(name, "no user with this name")
        audit.record(connection, actor=actor, item_kind="user", item_id=name, action="password",
                     before=None, after=None, reason=None)


def end_sessions(store: Store, user_id: int) -> None:
    """End every session of the account ``user_id`` (on every device): its cookies stop working at once."""
    with store._write(public=False) as connection:
        connection.execute(update(users).where(users.c.id == user_id).values(session_epoch=_NEXT_EPOCH))


def authenticate(store: Store, name: str, password: str, *, now: datetime | None = None) -> User | None:
    """The user when ``name`` and ``password`` match and the account is not locked; otherwise None.

    Each attempt counts before the password is checked; the ``MAX_FAILED_LOGINS``-th since the last
    success locks the account for ``LOCK_OUT`` (during which even the right password is refused) and ends
    its sessions. A success resets the count. An unknown name or a locked account costs one hash check
    too, so the time taken does not tell them apart from a wrong password.
    """
    now = now or datetime.now(UTC)
    row = _count_attempt(store, name, now)
    if row is None:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(row.password_hash, password):
        if row.failed_logins == MAX_FAILED_LOGINS:  # this failure locked the account: recorded once per lock
            with store._write(public=False) as connection:
                audit.record(connection, actor="login", item_kind="user", item_id=row.name, action="locked",
                             before=None, after={"until": (now + LOCK_OUT).isoformat()},
                             reason=f"{MAX_FAILED_LOGINS} login attempts without a success")
        return None  # counted already
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):  # parameters raised since it was stored
        values["password_hash"] = _hasher.hash(password)
    with store._write(public=False) as connection:
        connection.execute(update(users).where(users.c.id == row.id).values(**values))
    return User(row.id, row.name, row.role, row.created_at, None, row.session_epoch)


def _count_attempt(store: Store, name: str, now: datetime) -> Any:
    """Count one login attempt on ``name`` in one statement; the account's row after it, or None when the
    name is unknown or the account is locked.

    One ``UPDATE``, not a read then a write: concurrent attempts from several server processes queue on the
    row (PostgreSQL re-checks the ``WHERE`` after the wait, SQLite's writers take turns), so none of them
    sees a stale count and slips past the lock.
    """
    # The WHERE admits a row with a lock only once the lock has run out: then the count starts afresh.
    count = case((users.c.locked_until.is_not(None), 1), else_=users.c.failed_logins + 1)
    locks = count >= MAX_FAILED_LOGINS
    until = literal(now + LOCK_OUT, type_=users.c.locked_until.type)  # stored like every other timestamp
    statement = (
        update(users)
        .where(users.c.name == name, or_(users.c.locked_until.is_(None), users.c.locked_until <= now))
        .values(
            failed_logins=count,
            locked_until=case((locks, until), else_=None),
            session_epoch=case((locks, _NEXT_EPOCH), else_=users.c.session_epoch),
        )
        .returning(users.c.id, users.c.name, users.c.role, users.c.created_at, users.c.password_hash,
                   users.c.session_epoch, users.c.failed_logins)
    )
    with store._write(public=False) as connection:
        return connection.execute(statement).first()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
