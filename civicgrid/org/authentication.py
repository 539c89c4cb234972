"""Token authentication for the systems that call the API many times a second (12345 platforms,
departments' own systems, channel adapters).

DRF's ``TokenAuthentication`` answers every request with a query that joins the token to its user
(and the jurisdiction check reads the user's region again). Here a token's user — with the
jurisdiction it was found to have — is kept per process, for as long as the **auth generation**
stands: a token that database triggers replace on every write to what decides who a token is and
where its user may look (tokens, users, grid assignments, regions, departments, command centres),
whichever path writes. A revoked token, a deactivated user, a changed role or jurisdiction take
effect in every process as soon as it knows the new generation: at once where the generation is
read from the table (SQLite; inside a transaction; ``CIVICGRID_GENERATION_LISTENER`` off), and on
PostgreSQL when the process's listener has received the commit's notification — a few
milliseconds after the commit, so a request racing the revoking commit may still be let in, as it
would have been had it come those milliseconds earlier. Checking costs no query with the
listener, else one primary-key read shared with the other generations a request reads
(``civicgrid.regions.generation.pinned``).
Each request gets its own copy of the user.
"""

from __future__ import annotations

import copy
import threading

from rest_framework.authentication import TokenAuthentication

from civicgrid.regions.generation import current_token, install_triggers, pinned

AUTH_KEY = "auth"
TRIGGER_PREFIX = "civicgrid_authgen"
# Tokens remembered per process before the memory is cleared and refilled.
MAX_TOKENS = 10_000

_lock = threading.Lock()
_users: dict[str, tuple[str, object, object]] = {}  # token key → (generation, user, token)


def watched_tables() -> list[str]:
    from rest_framework.authtoken.models import Token

    from civicgrid.org.models import CommandCentre, Department, GridAssignment, User
    from civicgrid.regions.models import Region

    return [m._meta.db_table for m in (Token, User, GridAssignment, Region, Department, CommandCentre)]


def install_auth_triggers(using: str = "default") -> None:
    install_triggers(AUTH_KEY, watched_tables(), TRIGGER_PREFIX, using)


def forget() -> None:
    """Drop this process's remembered tokens (between tests)."""
    with _lock:
        _users.clear()


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` as DRF's ``TokenAuthentication`` checks it, its answer kept
    per process for the auth generation (see the module)."""

    def authenticate_credentials(self, key):
        from civicgrid.core.jurisdiction import jurisdiction_prefixes

        with pinned(AUTH_KEY):  # one read, unless the request has read the generations already
            generation = current_token(AUTH_KEY)
        held = _users.get(key)
        if held is None or held[0] != generation:
            user, token = super().authenticate_credentials(key)  # refuses unknown keys and inactive users
            jurisdiction_prefixes(user)  # remembered on the user, valid for this generation too
            with _lock:
                if len(_users) >= MAX_TOKENS:
                    _users.clear()
                _users[key] = held = (generation, user, token)
        # Requests may set attributes on their user: each gets its own copy.
        return copy.copy(held[1]), held[2]
