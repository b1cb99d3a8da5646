#!/bin/bash
# hotsnap baseline: Alien4Cloud restore, the way its documentation describes
# it: the backup/restore tool's page (seed 004: "We recommend to stop
# Alien4Cloud before performing the restore. ElasticSearch MUST be up and
# running. Alien4Cloud should be restarted once the restoration process is
# completed.") and the shell procedure of 1.0.0
# (documentation/1.0.0/admin/backup_restore.md):
#
#   1. stop Alien4Cloud (the page's recommendation; systemctl stop a4c);
#   2. POST _all/_close: close every index of the cluster (1.0.0);
#   3. POST _snapshot/alien_backup/<name>/_restore, without a body, and go
#      on only if the answer contains {"accepted":true} (1.0.0);
#   4. put the data directory back: remove it, then cp -r the copy of
#      backup.files_dir/<name> (1.0.0's rm -r and cp -r; the page: "restore
#      will do inversely");
#   5. start Alien4Cloud again (the page: "Alien4Cloud should be restarted").
#
# It keeps the procedure's behaviour and its gaps: every index of the
# cluster is closed, and those the snapshot does not hold (created after
# the backup, or another application's) stay closed; the restore is not
# waited for; the data directory comes back owned by root (cp -r as root),
# with the transient directories of the backup's day; the previous data is
# removed before the copy, so a failed copy leaves nothing; nothing is
# verified.
#
# Deliberate deviations:
#   - 1.0.0 writes `RESULT = \`curl ...\`` (blanks around =), which runs a
#     command named RESULT: the restore always "failed" and the files were
#     never copied back; here RESULT is assigned;
#   - curl sends Content-Type: application/json (as in the backup);
#   - after the start the script waits for GET /rest/admin/health to answer
#     200 (at most A4C_HEALTH_WAIT seconds), the operator's "is it up"
#     check, so that the measured restore ends with Alien4Cloud serving, as
#     hotsnap's does.
#
# Usage: alien4cloud-restore.sh <backup name>. Settings as the backup's.
set -euo pipefail

conf=${A4C_BASELINE_CONF:-$(dirname "$0")/alien4cloud-baseline.conf}
if [ -r "$conf" ]; then
	# shellcheck disable=SC1090
	. "$conf"
fi

ALIEN_DIR=${ALIEN_DIR:-/opt/alien4cloud/data}
FILES_DIR=${FILES_DIR:-/opt/alien4cloud/backups/files}
ES_URL=${ES_URL:-http://localhost:9200}
ES_AUTH=${ES_AUTH:-}
A4C_UNIT=${A4C_UNIT:-a4c}
A4C_URL=${A4C_URL:-http://localhost:8088}
A4C_HEALTH_WAIT=${A4C_HEALTH_WAIT:-300}

curl_es() {
	if [ -n "$ES_AUTH" ]; then
		curl -sS -u "$ES_AUTH" -H 'Content-Type: application/json' "$@"
	else
		curl -sS -H 'Content-Type: application/json' "$@"
	fi
}

# Name of the backup to restore
BACKUP_NAME=${1:?usage: $0 <backup name>}
FS_BACKUP_DIR=$FILES_DIR/$BACKUP_NAME
if [ ! -d "$FS_BACKUP_DIR" ]; then
	echo "no backup $BACKUP_NAME in $FILES_DIR"
	exit 1
fi

echo "Prepare to restore $BACKUP_NAME"
systemctl stop "$A4C_UNIT"

# close indexes before restore operation
curl_es -XPOST "$ES_URL/_all/_close"
echo

# trigger elastic search data restore
RESULT=$(curl_es -XPOST "$ES_URL/_snapshot/alien_backup/$BACKUP_NAME/_restore")

SUCCESS=$(echo "$RESULT" | grep "{\"accepted\":true}" || true)

if [ -z "$SUCCESS" ]; then
	echo "Failed to restore Elastic Search"
	echo "$RESULT"
	exit 1
fi

# Copy file system data
rm -r "$ALIEN_DIR"
cp -r "$FS_BACKUP_DIR" "$ALIEN_DIR"

systemctl start "$A4C_UNIT"
# (deviation) wait until Alien4Cloud answers
for _ in $(seq "$A4C_HEALTH_WAIT"); do
	if [ "$(curl -s -o /dev/null -w '%{http_code}' "$A4C_URL/rest/admin/health")" = 200 ]; then
		echo "restore $BACKUP_NAME done"
		exit 0
	fi
	sleep 1
done
echo "Alien4Cloud not healthy after ${A4C_HEALTH_WAIT}s"
exit 1
