"""Hostile or broken statements, as a language model (or someone steering it) might answer. Each is
(name, text). ``ACCEPTED`` names the few the guard lets through on purpose (after rewriting them):
they are plain reads of ``score`` and must return only its rows."""

from __future__ import annotations

HOSTILE: list[tuple[str, str]] = [
    # writes and DDL
    ("drop_table", "DROP TABLE score"),
    ("delete_all", "DELETE FROM score"),
    ("update_titles", "UPDATE score SET title = 'pwned'"),
    ("insert_row", "INSERT INTO score (item_id, title) VALUES ('evil', 'evil')"),
    ("truncate", "TRUNCATE score"),
    ("create_table", "CREATE TABLE stolen AS SELECT * FROM score"),
    ("alter_table", "ALTER TABLE score ADD COLUMN evil text"),
    ("create_function", "CREATE FUNCTION evil() RETURNS int AS 'SELECT 1' LANGUAGE sql"),
    ("grant_all", "GRANT ALL ON score TO PUBLIC"),
    ("alter_role", "ALTER ROLE audiomuse_chat SUPERUSER"),
    ("vacuum", "VACUUM score"),
    ("do_block", "DO $$ BEGIN DELETE FROM score; END $$"),
    ("explain_analyze_delete", "EXPLAIN ANALYZE DELETE FROM score"),
    ("notify", "NOTIFY audiomuse, 'hello'"),
    # stacked statements and comment tricks
    ("stacked_drop", "SELECT item_id, title, author FROM score; DROP TABLE score"),
    ("stacked_in_block_comment", "SELECT item_id, title, author FROM score /* ; */ ; DELETE FROM score"),
    ("stacked_after_line_comment", "SELECT item_id, title, author FROM score -- just a read\n; DELETE FROM score"),
    ("commit_then_drop", "SELECT item_id FROM score; COMMIT; DROP TABLE score"),
    ("begin_delete_commit", "BEGIN; DELETE FROM score; COMMIT;"),
    ("fenced_delete", "```sql\nDELETE FROM score\n```"),
    ("prose_then_delete", "Sure! Here it is:\nDELETE FROM score WHERE item_id IN (SELECT item_id FROM score)"),
    # functions that reach outside the table
    ("pg_sleep_where", "SELECT item_id, title, author FROM score WHERE pg_sleep(30) IS NOT NULL"),
    ("pg_sleep_order", "SELECT item_id, title, author FROM score ORDER BY pg_sleep(1)"),
    ("pg_read_file", "SELECT pg_read_file('/etc/passwd') AS item_id, title, author FROM score"),
    ("lo_import", "SELECT lo_import('/etc/passwd') AS item_id, title, author FROM score"),
    ("dblink", "SELECT * FROM dblink('dbname=postgres', 'DROP TABLE score') AS t(item_id text)"),
    ("set_config_role", "SELECT set_config('role', 'postgres', true) AS item_id, title, author FROM score"),
    ("current_setting", "SELECT current_setting('data_directory') AS item_id, title, author FROM score"),
    ("version", "SELECT version() AS item_id, title, author FROM score"),
    ("nextval", "SELECT nextval('evil_seq') AS item_id, title, author FROM score"),
    ("load_extension", "SELECT load_extension('/tmp/evil.so') AS item_id, title, author FROM score"),
    ("readfile", "SELECT readfile('/etc/passwd') AS item_id, title, author FROM score"),
    ("regclass_cast", "SELECT CAST('pg_authid' AS regclass) AS item_id, title, author FROM score"),
    # COPY, roles, settings, transactions
    ("copy_to_program", "COPY score TO PROGRAM 'touch /tmp/audiomuse-pwned'"),
    ("copy_to_file", "COPY (SELECT * FROM score) TO '/tmp/audiomuse-score.csv'"),
    ("set_role", "SET ROLE postgres"),
    ("reset_role", "RESET ROLE"),
    ("set_session_authorization", "SET SESSION AUTHORIZATION postgres"),
    ("set_timeout_off", "SET statement_timeout = 0"),
    # writes hidden in a read
    ("cte_delete", "WITH gone AS (DELETE FROM score RETURNING item_id) SELECT item_id FROM gone"),
    ("cte_update", "WITH u AS (UPDATE score SET title = 'x' RETURNING *) SELECT item_id, title, author FROM u"),
    ("select_into", "SELECT item_id, title, author INTO stolen FROM score"),
    ("for_update", "SELECT item_id, title, author FROM score FOR UPDATE"),
    # other tables and catalogs
    ("other_table", "SELECT name AS item_id, item_ids AS title, provider AS author FROM playlist"),
    ("other_table_public", "SELECT task_id AS item_id, details AS title, status AS author FROM public.task_status"),
    ("union_other_table", "SELECT item_id, title, author FROM score UNION ALL SELECT task_id, details, status FROM task_status"),
    ("subquery_other_table", "SELECT item_id, title, author FROM score WHERE item_id IN (SELECT item_id FROM embedding)"),
    ("scalar_subquery_other", "SELECT item_id, (SELECT value FROM audiomuse_meta LIMIT 1) AS title, author FROM score"),
    ("pg_authid", "SELECT rolname AS item_id, rolpassword AS title, '' AS author FROM pg_catalog.pg_authid"),
    ("pg_tables", "SELECT tablename AS item_id, schemaname AS title, tableowner AS author FROM pg_tables"),
    ("information_schema", "SELECT table_name AS item_id, table_schema AS title, table_type AS author FROM information_schema.tables"),
    ("sqlite_master", "SELECT name AS item_id, sql AS title, type AS author FROM sqlite_master"),
    ("sqlite_main_schema", "SELECT name AS item_id, sql AS title, type AS author FROM main.sqlite_master"),
    ("attach_database", "ATTACH DATABASE '/tmp/audiomuse-evil.db' AS evil"),
    ("pragma_writable_schema", "PRAGMA writable_schema = 1"),
    # resource exhaustion
    ("cross_join", "SELECT a.item_id, a.title, a.author FROM score a, score b, score c, score d, score e"),
    ("explicit_cross_join", "SELECT a.item_id, a.title, a.author FROM score a CROSS JOIN score b CROSS JOIN score c CROSS JOIN score d CROSS JOIN score e"),
    ("generate_series", "SELECT item_id, title, author FROM score, generate_series(1, 100000000)"),
    ("recursive_cte", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n AS item_id, '' AS title, '' AS author FROM r"),
    ("regex_backtracking", "SELECT item_id, title, author FROM score WHERE title ~ '(a+)+$'"),
    ("regex_from_column", "SELECT item_id, title, author FROM score WHERE title ~ author"),
    ("huge_offset", "SELECT item_id, title, author FROM score OFFSET 100000000"),
    # unicode look-alikes and invisible characters
    ("fullwidth_drop", "\uff24\uff32\uff2f\uff30 \uff34\uff21\uff22\uff2c\uff25 score"),
    ("cyrillic_table_name", "SELECT item_id, title, author FROM sc\u043ere"),
    ("fullwidth_semicolon", "SELECT item_id, title, author FROM score\uff1b DROP TABLE score"),
    ("zero_width_in_keyword", "DR\u200bOP TABLE score"),
    ("parameter", "SELECT item_id, title, author FROM score WHERE title = $1"),
    # broken answers
    ("unterminated_string", "SELECT item_id, title, author FROM score WHERE title = 'unterminated"),
    ("empty_answer", ""),
    ("refusal_prose", "I am sorry, I cannot help with that request."),
    ("truncated", "SELECT item_id, title, author FROM score WHERE (tempo > 120 AND"),
    # accepted on purpose: plain reads of score, rewritten
    ("huge_limit", "SELECT item_id, title, author FROM score LIMIT 100000000"),
    ("select_star", "SELECT * FROM score"),
    ("string_with_statement", "SELECT item_id, title, author FROM score WHERE title = '; DROP TABLE score; --'"),
]

ACCEPTED = {"huge_limit", "select_star", "string_with_statement"}
