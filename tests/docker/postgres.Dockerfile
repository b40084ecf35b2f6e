# A PostgreSQL server for the compose test, from Debian's packages on the locally made base: the compose
# file names the official postgres image, which no registry here can provide. Same variables as that
# image (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB), password auth over TCP.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /var/lib/postgresql/data \
    && chown postgres:postgres /var/lib/postgresql/data
USER postgres
ENV PGDATA=/var/lib/postgresql/data
CMD set -e; export PATH="$(ls -d /usr/lib/postgresql/*/bin | tail -n1):$PATH"; \
    initdb -U postgres --auth=trust >/dev/null; \
    pg_ctl -w -o "-c listen_addresses=''" start >/dev/null; \
    psql -q -U postgres -c "CREATE ROLE $POSTGRES_USER LOGIN PASSWORD '$POSTGRES_PASSWORD'" \
         -c "CREATE DATABASE $POSTGRES_DB OWNER $POSTGRES_USER"; \
    pg_ctl -w stop >/dev/null; \
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"; \
    exec postgres -c listen_addresses='*'
