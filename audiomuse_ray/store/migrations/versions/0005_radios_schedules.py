"""Anchors, radios and the schedule table (issue #18).

Reserved in the chain so that the three issues' schema changes land in a fixed order; it changes nothing
until its issue fills it.

Revision ID: 0005
Revises: 0004
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
