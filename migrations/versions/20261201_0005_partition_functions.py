"""Partition creation that a loader role may call, and the backend any role may read.

PostgreSQL lets only the owner of a partitioned table add partitions to it, so a
loader role with INSERT alone cannot load a day that has no partition yet. Two
functions run as the schema owner instead (``SECURITY DEFINER``; ``search_path`` pinned
to ``pg_catalog, pg_temp`` and every name schema-qualified, so a caller cannot slip
its own objects in; ``TimeZone`` pinned to UTC, so bounds are UTC midnights). The
creating function pins ``search_path`` itself and restores the caller's at the end:
pg_partman's functions leave a session-level ``search_path`` behind them.

``oddskit_create_daily_partitions(days date[]) RETURNS SETOF text``
    Creates the missing daily partitions of ``market_odds`` and ``odds_snapshots``
    (prices first) for ``days`` and returns their names: with pg_partman's
    ``create_partition_time`` when the set is registered with pg_partman, else with
    ``CREATE TABLE … PARTITION OF``. A caller who is not a member of the tables' owner
    role gets only the days the partition policy allows: from the first day of the
    retention window through today + premake + 1 (the loader refuses rows outside that
    span anyway). EXECUTE is revoked from PUBLIC: grant it to the loader role.
``oddskit_partition_backend() RETURNS text``
    'pg_partman' or 'native'. pg_partman's configuration table is readable only by the
    roles it was granted to; this answers for everyone (EXECUTE stays with PUBLIC).

Both are literal SQL frozen in this revision; the schema name is written into them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITION_BACKEND = """
CREATE FUNCTION {schema}.oddskit_partition_backend() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_schema CONSTANT text := {schema_literal};
    v_partman name;
    v_registered boolean := false;
BEGIN
    SELECT n.nspname INTO v_partman
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_partman';
    IF v_partman IS NULL OR NOT has_schema_privilege(v_partman, 'USAGE') THEN
        RETURN 'native';
    END IF;
    -- An owner that may not read pg_partman's configuration cannot have registered
    -- its tables with it.
    IF NOT has_table_privilege(format('%I.part_config', v_partman), 'SELECT') THEN
        RETURN 'native';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM %I.part_config WHERE parent_table = ANY ($1))',
                   v_partman)
       INTO v_registered
      USING ARRAY[v_schema || '.market_odds', v_schema || '.odds_snapshots'];
    RETURN CASE WHEN v_registered THEN 'pg_partman' ELSE 'native' END;
END
$fn$
"""

CREATE_DAILY_PARTITIONS = """
CREATE FUNCTION {schema}.oddskit_create_daily_partitions(p_days date[]) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER
SET TimeZone = 'UTC'
AS $fn$
-- search_path is pinned by hand rather than by a SET clause: pg_partman's functions end
-- with a session-level set_config('search_path', <the value they found>, false), which
-- would outlive a SET clause and leave the caller's session with the pinned path. So
-- the caller's path is kept, pinned first thing (schema-qualified calls only, no
-- operators before), and put back at the end (an error rolls the setting back).
DECLARE
    v_caller_path text;
    v_schema CONSTANT text := {schema_literal};
    v_backend text;
    v_owner oid;
    v_premake int;
    v_retention int;
    v_first date;
    v_last date;
    v_partman name;
    v_major int;
    v_style text;
    v_parent text;
    v_day date;
    v_name text;
BEGIN
    v_caller_path := pg_catalog.current_setting('search_path');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false);
    -- The advisory lock every oddskit partition change takes (oddskit.partitions).
    PERFORM pg_advisory_xact_lock(14507031);
    v_backend := {schema}.oddskit_partition_backend();
    SELECT c.relowner INTO v_owner FROM pg_class c
     WHERE c.oid = format('%I.%I', v_schema, 'odds_snapshots')::regclass;
    EXECUTE format('SELECT premake_days, retention_days FROM %I.partition_policies '
                   'WHERE parent_table = %L', v_schema, 'odds_snapshots')
       INTO v_premake, v_retention;
    v_first := CASE WHEN v_retention IS NULL THEN '-infinity'::date
                    ELSE (now() - make_interval(days => v_retention))::date END;
    v_last := current_date + v_premake + 1;
    IF v_backend = 'pg_partman' THEN
        SELECT n.nspname, split_part(e.extversion, '.', 1)::int INTO v_partman, v_major
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_partman';
    END IF;
    FOR v_day IN SELECT DISTINCT d FROM unnest(p_days) AS d WHERE d IS NOT NULL ORDER BY d LOOP
        FOREACH v_parent IN ARRAY ARRAY['market_odds', 'odds_snapshots'] LOOP
            v_style := 'YYYY_MM_DD';
            IF v_backend = 'pg_partman' THEN  -- 4.x: YYYY_MM_DD, 5.x: YYYYMMDD
                EXECUTE format('SELECT datetime_string FROM %I.part_config '
                               'WHERE parent_table = $1', v_partman)
                   INTO v_style USING v_schema || '.' || v_parent;
            END IF;
            v_name := v_parent || '_p' || to_char(v_day, v_style);
            CONTINUE WHEN to_regclass(format('%I.%I', v_schema, v_name)) IS NOT NULL;
            IF (v_day < v_first OR v_day > v_last)
               AND NOT pg_has_role(session_user, v_owner, 'USAGE') THEN
                RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                    MESSAGE = format(
                        'role %s may create daily partitions only for %s to %s '
                        '(retention %s, premake %s days), not for %s',
                        session_user, v_first, v_last,
                        coalesce(v_retention || ' days', 'none'), v_premake, v_day),
                    HINT = 'The owner of the oddskit tables can create it '
                           '(oddskit.ensure_partitions), or change the policy.';
            END IF;
            IF v_backend = 'pg_partman' THEN
                EXECUTE format(
                    'SELECT %I.create_partition_time(p_parent_table := $1, '
                    'p_partition_times := $2%s)',
                    v_partman, CASE WHEN v_major < 5 THEN ', p_analyze := false' ELSE '' END)
                  USING v_schema || '.' || v_parent, ARRAY[v_day::timestamptz];
            ELSE
                EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                               v_schema, v_name, v_schema, v_parent,
                               v_day::timestamptz, (v_day + 1)::timestamptz);
            END IF;
            RETURN NEXT v_name;
        END LOOP;
    END LOOP;
    PERFORM set_config('search_path', v_caller_path, false);
END
$fn$
"""


def _names() -> dict[str, str]:
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    quoted = '"' + schema.replace('"', '""') + '"'
    return {"schema": quoted, "schema_literal": "'" + schema.replace("'", "''") + "'"}


def upgrade() -> None:
    names = _names()
    op.execute(PARTITION_BACKEND.format(**names))
    op.execute(CREATE_DAILY_PARTITIONS.format(**names))
    op.execute(
        "REVOKE EXECUTE ON FUNCTION {schema}.oddskit_create_daily_partitions(date[]) "
        "FROM PUBLIC".format(**names)
    )


def downgrade() -> None:
    names = _names()
    op.execute("DROP FUNCTION {schema}.oddskit_create_daily_partitions(date[])".format(**names))
    op.execute("DROP FUNCTION {schema}.oddskit_partition_backend()".format(**names))
