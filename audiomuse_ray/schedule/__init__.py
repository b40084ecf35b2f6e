"""Playlists that keep themselves fresh: anchors and radios, the schedule table and its scheduler actor."""
