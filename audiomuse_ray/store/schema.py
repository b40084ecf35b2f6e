"""The one database schema in SQLAlchemy Core: what the code reads and writes. The database itself is
created and changed only by the Alembic revisions in ``store/migrations`` (``store/migrate.py``); a change
here needs a new revision there, and ``tests/store/test_migrations.py`` holds the two to each other.

``score`` keeps AudioMuse-AI's column names because the instant-playlist chat writes SQL against it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

meta = Table(
    "audiomuse_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

score = Table(
    "score",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("title", Text),
    Column("author", Text),
    Column("album", Text),
    Column("album_artist", Text),
    Column("tempo", Float),
    Column("key", String(8)),
    Column("scale", String(8)),
    Column("mood_vector", Text),  # "label:score,..." the TOP_N_MOODS highest tags, highest first
    Column("energy", Float),
    Column("other_features", Text),  # "danceable:0.61,aggressive:0.12,..." same format
    Column("duration", Float),
    Column("path_or_url", Text),
    Column("analysed_at", DateTime(timezone=True)),
    Column("model_version", String(128)),
    Column("artist_id", String(255)),  # the media server's id of the track's artist (revision 0003)
)

embedding = Table(
    "embedding",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # little-endian float32, dim * 4 bytes
    Column("tags", LargeBinary),  # all 50 MSD tag scores, float32, in the model manifest's label order
)

index_store = Table(  # one row per version: the header; its bytes are in ``index_chunk`` (revision 0006)
    "index_store",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("data", LargeBinary),  # before revision 0006: the serialised Voyager index; NULL since
    Column("id_map", Text),  # before revision 0006: JSON list row number -> item_id; NULL since
    Column("dim", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("item_count", Integer),  # rows indexed (revision 0006)
    Column("parts", Text),  # JSON {part: byte length} of the chunks stored for it (revision 0006)
)

index_chunk = Table(  # a version's parts (index, ids, columns...) cut in chunks: no value nears a database limit
    "index_chunk",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("part", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

map_projection = Table(
    "map_projection",
    metadata,
    Column("index_name", String(64), primary_key=True),
    Column("index_version", Integer, primary_key=True),
    Column("method", String(16), nullable=False),  # "umap" or "pca"
    Column("data", LargeBinary, nullable=False),  # gzipped JSON of the points
    Column("created_at", DateTime(timezone=True), nullable=False),
)

playlist = Table(
    "playlist",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("item_ids", Text, nullable=False),  # JSON list of item ids, in playlist order
    Column("provider", String(32), nullable=False),
    Column("provider_playlist_id", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

task_status = Table(
    "task_status",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("parent_id", String(64), index=True),
    Column("task_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False, default=0),
    Column("details", Text, nullable=False, default="{}"),  # JSON: counts, eta, log lines
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),  # also the heartbeat of a running job
    Column("runner", String(255)),  # "actor:NAME" or "process:HOST:PID": where the job's driver runs
)

analysis_error = Table(
    "analysis_error",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("path", Text),
    Column("error_class", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("model_version", String(128)),
    Column("at", DateTime(timezone=True), nullable=False),
)

Index("ix_task_status_type_created", task_status.c.task_type, task_status.c.created_at)

# Collection sync (revision 0004). The acoustic fingerprint of each analysed track: a later sync pushes it
# without fetching the file again, and a second copy of the recording (another album, another format)
# reuses the analysis. ``tag_key`` is identity.tag_key (normalised "artist\x1ftitle"): it finds candidates,
# the fingerprint confirms them.
track_fingerprint = Table(
    "track_fingerprint",
    metadata,
    Column("item_id", String(255), primary_key=True),
    Column("tag_key", String(512), index=True),
    Column("duration", Float),  # seconds, of the whole file
    Column("chromaprint", Text, nullable=False),  # Chromaprint's compressed base64 of the first two minutes
    Column("seconds", Float, nullable=False),  # of audio fingerprinted
    Column("origin", String(16), nullable=False),  # analysed, copied (a local duplicate), pulled, imported
    Column("recording_id", String(64)),  # the hub's key once pushed or pulled there
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A hub's shared analyses, one row per recording and model version; never a local id, path or media-server
# id. ``recording_id`` is the hub's own random key; ``contributor`` is the token name that pushed it first.
shared_analysis = Table(
    "shared_analysis",
    metadata,
    Column("recording_id", String(64), primary_key=True),
    Column("model_version", String(128), nullable=False),
    Column("tag_key", String(512), nullable=False),
    Column("artist", Text),
    Column("title", Text),
    Column("album", Text),
    Column("duration", Float),
    Column("chromaprint", Text, nullable=False),
    Column("tempo", Float),
    Column("key", String(8)),
    Column("scale", String(8)),
    Column("energy", Float),
    Column("mood_vector", Text),  # score's text format
    Column("other_features", Text),
    Column("dim", Integer, nullable=False),
    Column("embedding", LargeBinary, nullable=False),  # little-endian float32
    Column("tags", LargeBinary),  # all tag scores, float32, in the model's label order
    Column("contributor", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_shared_analysis_version_key", shared_analysis.c.model_version, shared_analysis.c.tag_key)


# At most one active top-level task per type (revision 0002): the database settles a race between two
# replicas starting the same job.
ACTIVE_WHERE = text("parent_id IS NULL AND status IN ('PENDING', 'STARTED', 'PROGRESS')")
Index("ux_task_status_one_active", task_status.c.task_type, unique=True, sqlite_where=ACTIVE_WHERE,
      postgresql_where=ACTIVE_WHERE)

# ---------------------------------------------------------------- anchors, radios, schedules (revision 0005)
anchor = Table(  # a saved alchemy recipe: item/artist ids (survive re-analysis and index rebuilds), or a centroid
    "anchor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("items", Text, nullable=False),  # JSON [{"type": "song"|"artist", "id": ..., "op": "ADD"|"SUBTRACT"}]
    Column("centroid", LargeBinary),  # little-endian float32 (AudioMuse-AI's {name, centroid} form), else NULL
    Column("exclusions", Text, nullable=False),  # JSON [{"type": "song"|"artist", "id"} | {"vector", "distance"}]
    Column("subtract_distance", Float),  # the alchemy's SUBTRACT radius when saved; NULL = the metric's default
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ux_anchor_name", anchor.c.name, unique=True)

radio = Table(  # an anchor that makes a playlist again and again
    "radio",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("anchor_id", Integer, ForeignKey("anchor.id", ondelete="CASCADE"), nullable=False),
    Column("n_results", Integer, nullable=False),
    Column("temperature", Float, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("max_repeat_share", Float, nullable=False),  # at most this share of the previous run's songs again
    Column("skip_played_days", Integer, nullable=False),  # skip songs played in the last N days; 0 = never
    Column("last_item_ids", Text),  # JSON list: the previous run's songs, in order
    Column("provider_playlist_id", String(255)),  # the playlist the last run wrote, replaced in place next time
    Column("last_run_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ux_radio_anchor", radio.c.anchor_id, unique=True)  # one radio per anchor, as AudioMuse-AI keeps them

schedule = Table(  # a job kind on a 5-field cron expression (AudioMuse-AI's /api/cron rows)
    "schedule",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("task_type", String(64), nullable=False),  # analysis, clustering, alchemy_radio, sonic_fingerprint
    Column("cron_expr", String(128), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("options", Text, nullable=False),  # JSON object, per task type
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),  # ticks before it never fire
)

schedule_run = Table(  # one row per (schedule, tick) claimed: the primary key is what stops a double start
    "schedule_run",
    metadata,
    Column("schedule_id", Integer, ForeignKey("schedule.id", ondelete="CASCADE"), primary_key=True),
    Column("tick", DateTime(timezone=True), primary_key=True),  # the cron time it is for, UTC
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # CLAIMED, STARTED, SKIPPED, FAILED, LOST
    Column("task_id", String(64)),
    Column("message", Text),
)
