"""Which recording a track is, apart from where it is kept: its tag key (``identity``) and an analysis as it
is shared between instances (``records``). Used by the analysis (local copies of one recording are
analysed once) and by collection sync (hubs keyed by recording, never by a local id)."""
