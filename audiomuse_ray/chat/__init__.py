"""Instant playlists: a request in plain words becomes one read-only SELECT of the ``score`` table.

- ``prompt``   -- what the language model is told (schema, labels, the text-list idioms, rules, examples)
- ``guard``    -- pure sqlglot validation: one SELECT of ``score``, allow-listed functions, ``LIMIT 25``
- ``execute``  -- runs a guarded statement read-only with a time limit (PostgreSQL role / SQLite authorizer)
- ``keywords`` -- the offline mode: words of the request mapped to tags, moods, tempo and energy
- ``service``  -- the whole flow for the HTTP routes and the CLI, returning a ``ChatResult``
"""
