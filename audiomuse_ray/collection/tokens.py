"""Hub tokens: ``AUDIOMUSE_HUB_TOKENS=name:token,...`` parsed once, checked in constant time.

A name says who pushed a record (kept with it on the hub); the token is the secret. Messages never repeat
a token, only names and positions.
"""

from __future__ import annotations

import hmac

from audiomuse_ray.errors import HubAuthError, NotAHub
from audiomuse_ray.parsing import MIN_TOKEN_CHARS, parse_hub_tokens  # noqa: F401  (the settings check them too)

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
