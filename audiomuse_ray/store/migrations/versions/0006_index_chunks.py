"""The similarity index stored in chunks and its id map as an array (issue #20).

- ``index_chunk``: each part of an index version (the Voyager bytes, the item ids as an Arrow array, the
  metadata columns...) cut into chunks of a few MB, so no single value nears PostgreSQL's 1 GB ``bytea``
  limit (a million 200-d float32 vectors are 800 MB before the graph) and a replica can stream it.
- ``index_store`` becomes the version's header: ``item_count`` and ``parts`` (JSON: part -> byte length) are
  added; ``data`` and ``id_map`` become optional. Versions written before keep their bytes there and stay
  readable until the next rebuild prunes them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_chunk",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("part", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("index_store") as batch:  # SQLite changes nullability by copying the table
        batch.alter_column("data", existing_type=sa.LargeBinary, nullable=True)
        batch.alter_column("id_map", existing_type=sa.Text, nullable=True)
        batch.add_column(sa.Column("item_count", sa.Integer))
        batch.add_column(sa.Column("parts", sa.Text))


def downgrade() -> None:
    op.execute("DELETE FROM index_store WHERE data IS NULL")  # chunked versions cannot go back
    with op.batch_alter_table("index_store") as batch:
        batch.drop_column("parts")
        batch.drop_column("item_count")
        batch.alter_column("id_map", existing_type=sa.Text, nullable=False)
        batch.alter_column("data", existing_type=sa.LargeBinary, nullable=False)
    op.drop_table("index_chunk")
