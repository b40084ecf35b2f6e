"""The similarity index stored in chunks and its id map as an array (issue #20).

Reserved in the chain so that the three issues' schema changes land in a fixed order; it changes nothing
until its issue fills it.

Revision ID: 0006
Revises: 0005
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
