"""Collection sync (issue #19): shared analyses keyed by recording, fingerprints.

Reserved in the chain so that the three issues' schema changes land in a fixed order; it changes nothing
until its issue fills it.

Revision ID: 0004
Revises: 0003
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
