"""Hub tokens: ``AUDIOMUSE_HUB_TOKENS=name:token,...`` parsed once, checked in constant time.

A name says who pushed a record (kept with it on the hub); the token is the secret. Messages never repeat
a token, only names and positions.
"""

from __future__ import annotations

import hmac

from audiomuse_ray.errors import ConfigurationError, HubAuthError, NotAHub

MIN_TOKEN_CHARS = 8


def parse_hub_tokens(text: str) -> dict[str, str]:
    """``"alice:s3cret-1,bob:s3cret-2"`` -> ``{"alice": "s3cret-1", "bob": "s3cret-2"}``; empty -> ``{}``.

    >>> parse_hub_tokens("alice:abcdefgh")
    {'alice': 'abcdefgh'}
    """
    tokens: dict[str, str] = {}
    for position, part in enumerate((text or "").split(","), start=1):
        part = part.strip()
        if not part:
            continue
        name, sep, token = part.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise ConfigurationError(
                f"AUDIOMUSE_HUB_TOKENS entry {position} is not name:token; write it as "
                "name1:token1,name2:token2.")
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigurationError(
                f"AUDIOMUSE_HUB_TOKENS: the token of {name!r} is shorter than {MIN_TOKEN_CHARS} characters; "
                "use a long random one (python -c 'import secrets; print(secrets.token_urlsafe(24))').")
        if name in tokens:
            raise ConfigurationError(f"AUDIOMUSE_HUB_TOKENS names {name!r} twice; give each client one name.")
        tokens[name] = token
    return tokens


def check_hub_token(tokens: dict[str, str], presented: str | None) -> str:
    """The client name whose token is ``presented``; ``HubAuthError`` otherwise. Every token is compared
    (in constant time each), so the answer's timing does not tell how many names there are before a hit."""
    if not tokens:
        raise NotAHub("This audiomuse-ray is not a collection hub (AUDIOMUSE_HUB_TOKENS is not set): check the "
                      "hub's address, or ask its operator to set hub tokens.")
    if not presented:
        raise HubAuthError("A hub token is required: send it as 'Authorization: Bearer TOKEN'.")
    found = None
    for name, token in tokens.items():
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = name
    if found is None:
        raise HubAuthError("The hub token was refused: check it with whoever runs the hub.")
    return found
