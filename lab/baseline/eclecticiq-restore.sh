#!/bin/bash
# hotsnap baseline: the EclecticIQ restore as its documentation describes it
# (seed 003, "Data recovery": "follow the standard recommendations and
# procedures for PostgreSQL and Elasticsearch" — psql -U postgres <
# db_dump.sql, POST _snapshot/backup/<snapshot>/_restore, GET _recovery —
# then "Migrate Elasticsearch indices" with eiq-platform search upgrade),
# for a backup made by eclecticiq-backup.sh (argument: its directory,
# default the newest under BACKUP_ROOT), run on the platform's node as
# root. It keeps the procedure's gaps:
#
#   - psql's errors are not looked at (psql exits 0 on them: samples
#     psql-restore-*); the failed-packages query is printed, not judged;
#   - search upgrade is judged by nothing but its output, as the document
#     says ("If no messages are printed …, the process completed
#     successfully");
#   - nothing is verified before anything is overwritten.
#
# Deliberate deviations:
#
#   - the platform is stopped first as the backup does it (services, then
#     the workers), and started again at the end (workers, then services):
#     the document's reindex and migration steps ask for the services to
#     be stopped and never say to start anything;
#   - the configuration copy is put back with cp -a, path by path of the
#     list (the document lists the files to back up and says nothing of
#     putting them back);
#   - "load it to an empty cluster": the databases the dump creates are
#     dropped first (DROP DATABASE … WITH (FORCE)), the document does not
#     say how to empty the cluster; the dump is loaded as the postgres OS
#     user (peer authentication), the document's `psql -U postgres`;
#   - the snapshot's indices are deleted before the restore: the
#     document's bare _restore fails with HTTP 500 on an open index of the
#     same name (sample es7-restore-open-index-exists-500-7.2.1.json); the
#     recovery is followed by polling _recovery every RECOVERY_POLL seconds
#     until every shard is DONE;
#   - curl gets the lab's ES password when it has one.
#
# Settings: as eclecticiq-backup.sh (eclecticiq-baseline.conf next to it).
set -uo pipefail

conf=${EIQ_BASELINE_CONF:-$(dirname "$0")/eclecticiq-baseline.conf}
if [ -r "$conf" ]; then
	# shellcheck disable=SC1090
	. "$conf"
fi

SETTINGS=${SETTINGS:-/etc/eclecticiq/platform_settings.py}
ES_URL=${ES_URL:-http://localhost:9200}
ES_AUTH=${ES_AUTH:-}
ES_REPO=${ES_REPO:-backup}
RECOVERY_POLL=${RECOVERY_POLL:-1}
BACKUP_ROOT=${BACKUP_ROOT:-/mnt/backup/eclecticiq}
CONFIG_PATHS=${CONFIG_PATHS:-$(dirname "$0")/eclecticiq-config-paths.txt}

curl_es() {
	if [ -n "$ES_AUTH" ]; then curl -s -u "$ES_AUTH" "$@"; else curl -s "$@"; fi
}

dir=${1:-$(ls -d "$BACKUP_ROOT"/[0-9]* 2>/dev/null | sort | tail -1)}
if [ -z "$dir" ] || [ ! -f "$dir/db_dump.sql" ] || [ ! -f "$dir/es_snapshot" ]; then
	echo "=== ✗ ERROR - no backup to restore under $BACKUP_ROOT (${dir:-none}) ==="
	exit 1
fi
snapshot=$(cat "$dir/es_snapshot")
echo "Restoring $dir (snapshot $snapshot)"
cd "$dir" || exit 1

echo "Stopping eclecticiq-platform-backend-services and the workers"
systemctl stop eclecticiq-platform-backend-services
systemctl stop eclecticiq-platform-backend-worker*.service

echo "Putting the configuration files back"
while read -r p; do
	case "$p" in "" | "#"*) continue ;; esac
	real=$(readlink -f "$(dirname "$p")")/$(basename "$p")
	if [ -d "$dir/config$real" ]; then
		mkdir -p "$real"
		cp -a "$dir/config$real/." "$real/"
	elif [ -e "$dir/config$real" ]; then
		mkdir -p "$(dirname "$real")"
		cp -a "$dir/config$real" "$real"
	fi
done <"$CONFIG_PATHS"

echo "Loading the SQL dump into an empty cluster"
grep -E '^CREATE DATABASE ' "$dir/db_dump.sql" | awk '{print $3}' | while read -r db; do
	echo "  dropping database $db"
	sudo -i -u postgres psql -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE);"
done
sudo -i -u postgres psql -X -q <"$dir/db_dump.sql" >/dev/null

echo "Restoring the Elasticsearch snapshot"
indices=$(curl_es "$ES_URL/_snapshot/$ES_REPO/$snapshot" | jq -r '.snapshots[0].indices[]')
for ix in $indices; do
	curl_es -X DELETE "$ES_URL/$ix" >/dev/null
done
curl_es -X POST "$ES_URL/_snapshot/$ES_REPO/$snapshot/_restore"
echo
while :; do
	left=$(curl_es "$ES_URL/_recovery/" | jq '[.[].shards[] | select(.stage != "DONE")] | length')
	if [ "$left" = 0 ]; then break; fi
	echo "  recovering: $left shard(s)"
	sleep "$RECOVERY_POLL"
done

echo "Migrating the Elasticsearch indices (eiq-platform search upgrade)"
sudo -i -u eclecticiq EIQ_PLATFORM_SETTINGS="$SETTINGS" /opt/eclecticiq-platform-backend/bin/eiq-platform search upgrade

echo "Packages that did not ingest:"
sudo -i -u postgres psql -X -d eclecticiq -c "SELECT id, processing_status FROM blob WHERE processing_status NOT IN ('success', 'pending');" | tail -3

echo "Starting the platform"
systemctl start eclecticiq-platform-backend-workers
systemctl start eclecticiq-platform-backend-services

echo "=== ✓ EclecticIQ restore done ==="
