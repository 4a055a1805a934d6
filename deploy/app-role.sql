-- mcreg's role and database, made or brought up to date on a PostgreSQL server (or a cluster's primary) by its
-- superuser; every statement may run again. The password is set each time, so the URL printed always works.
-- deploy/postgres-cluster.sh and deploy/ha/cluster.sh run it as:
--   psql -v app_user=mcreg -v app_password=... -v app_db=mcreg -v ON_ERROR_STOP=1 -f deploy/app-role.sql
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user')
\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'app_user', :'app_password')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L', :'app_db', :'app_user', 'UTF8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db')
\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'app_db', :'app_user')
\gexec
