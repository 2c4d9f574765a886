-- lambda/005_partition_retention.sql
-- Seed 000 §6.1 古いパーティションを削除する関数 (L7).
-- Corrections to the seed:
--  * substring(... from 'request_logs_y(\d{4})m(\d{2})') returns only the FIRST
--    capture group ('2025'), so to_date(..., 'YYYYMM') gave January for every
--    partition; the month is now parsed from the whole 'YYYYmMM' token.
--  * partitions are found through pg_inherits (children of public.request_logs
--    in schema public) instead of LIKE 'request_logs_y%m%' over all of pg_class
--    (LIKE's '_' is a wildcard, and any schema matched); the DEFAULT partition
--    never matches.
--  * the cutoff is in calendar months (keeps the current month and the previous
--    retention_months months) instead of retention_months * 30 days;
--  * DROP uses format('%I') instead of string concatenation;
--  * a NULL or negative retention is rejected.
CREATE OR REPLACE FUNCTION public.drop_old_partitions(retention_months INTEGER)
RETURNS void AS $$
DECLARE
    partition_name TEXT;
    partition_date DATE;
    cutoff_date    DATE;
BEGIN
    IF retention_months IS NULL OR retention_months < 0 THEN
        RAISE EXCEPTION 'retention_months must be >= 0 (got %)', retention_months;
    END IF;

    cutoff_date := (date_trunc('month', CURRENT_DATE)
                    - make_interval(months => retention_months))::date;

    FOR partition_name, partition_date IN
        SELECT
            c.relname,
            to_date(substring(c.relname from '^request_logs_y(\d{4}m\d{2})$'), 'YYYY"m"MM')
        FROM
            pg_inherits i
            JOIN pg_class c     ON c.oid = i.inhrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE
            i.inhparent = 'public.request_logs'::regclass
            AND n.nspname = 'public'
            AND c.relname ~ '^request_logs_y\d{4}m\d{2}$'
        ORDER BY 2
    LOOP
        IF partition_date < cutoff_date THEN
            EXECUTE format('DROP TABLE IF EXISTS public.%I', partition_name);
            RAISE NOTICE 'Dropped partition: %', partition_name;
        END IF;
    END LOOP;
END;
$$ LANGUAGE plpgsql;
