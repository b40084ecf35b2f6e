"""Tasks record who runs them, and at most one job of a type is active at a time.

- ``task_status.runner``: where the job's driver lives (``actor:NAME`` for a detached Ray actor,
  ``process:HOST:PID`` for a CLI or ``ray job`` driver), so a cancel of a job whose runner is gone can
  finish it at once.
- A unique partial index over the active top-level tasks of one type: two replicas (or two CLIs) that
  race to start an analysis cannot both insert an active row. Release 0.1.0 could leave several rows
  active (a killed driver); all but the newest per type are failed first so the index can be built.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE_WHERE = "parent_id IS NULL AND status IN ('PENDING', 'STARTED', 'PROGRESS')"


def upgrade() -> None:
    op.add_column("task_status", sa.Column("runner", sa.String(255)))
    op.execute(
        "UPDATE task_status SET status = 'FAILURE' WHERE " + ACTIVE_WHERE + " AND task_id NOT IN ("
        " SELECT t.task_id FROM task_status t WHERE t.parent_id IS NULL"
        " AND t.status IN ('PENDING', 'STARTED', 'PROGRESS') AND t.created_at = ("
        "  SELECT MAX(u.created_at) FROM task_status u WHERE u.parent_id IS NULL"
        "  AND u.status IN ('PENDING', 'STARTED', 'PROGRESS') AND u.task_type = t.task_type))"
    )
    op.create_index("ux_task_status_one_active", "task_status", ["task_type"], unique=True,
                    sqlite_where=sa.text(ACTIVE_WHERE), postgresql_where=sa.text(ACTIVE_WHERE))


def downgrade() -> None:
    op.drop_index("ux_task_status_one_active", "task_status")
    op.drop_column("task_status", "runner")
