#!/bin/bash
# hotsnap baseline: Alien4Cloud backup, the way its documentation describes
# it: the backup/restore tool's page (seed 004, "Backup & restore", 3.0.0;
# the tool itself is closed source) and the shell procedure it replaced
# (documentation/1.0.0/admin/backup_restore.md):
#
#   1. register the Elasticsearch fs snapshot repository alien_backup in a
#      directory under path.repo, compressed (1.0.0);
#   2. name the backup `date '+%d_%m_%Y_%H_%M'` (1.0.0: one per minute);
#   3. PUT _snapshot/alien_backup/<name>?wait_for_completion=false and go on
#      only if the answer contains {"accepted":true} (1.0.0): a snapshot of
#      every index, global state included, as the request names none;
#   4. copy the data directory (directories.alien, the tool's
#      alien4cloud.dir) to backup.files_dir/<name> with cp -r (1.0.0's copy;
#      the page: "backup operation will copy data from alien4cloud.dir to
#      backup.files_dir");
#   5. GET _snapshot/alien_backup/<name>/_status (1.0.0 prints it once).
#
# It keeps the procedure's behaviour and its gaps: Alien4Cloud keeps running
# (no maintenance mode), every index is snapshotted (not only
# Alien4Cloud's), the whole data directory is copied, transient work/,
# upload/, tmp/ and an embedded eshome/ included, cp -r records neither
# owners nor timestamps, nothing is hashed, the configuration files are not
# saved ("configuration files won't be backed up").
#
# Deliberate deviations, each needed for the procedure to run on
# Alien4Cloud 3.x or to be measured fairly:
#   - curl sends Content-Type: application/json: Elasticsearch 6.x refuses
#     1.0.0's bodies otherwise (406, "Content-Type header
#     [application/x-www-form-urlencoded] is not supported");
#   - the whole directories.alien is copied once (the 3.x page), not 1.0.0's
#     `cp -r $ALIEN_DIR/csar $FS_BACKUP_DIR/csar` into an existing directory,
#     which nests csar/csar and breaks its own restore;
#   - after step 5 the script polls the snapshot every 5 seconds until it is
#     SUCCESS (failing on FAILED/PARTIAL), so that it ends when the backup
#     really exists, as hotsnap's does; 1.0.0 called _status once and left.
#
# Settings: the variables below, overridable from the environment or from
# $A4C_BASELINE_CONF (default: alien4cloud-baseline.conf next to this
# script), the equivalent of the tool's config/config.yml. Run it as root on
# the Alien4Cloud node. Its last line on success is "backup <name> done".
set -euo pipefail

conf=${A4C_BASELINE_CONF:-$(dirname "$0")/alien4cloud-baseline.conf}
if [ -r "$conf" ]; then
	# shellcheck disable=SC1090
	. "$conf"
fi

ALIEN_DIR=${ALIEN_DIR:-/opt/alien4cloud/data}           # alien4cloud.dir
FILES_DIR=${FILES_DIR:-/opt/alien4cloud/backups/files}  # backup.files_dir
ES_URL=${ES_URL:-http://localhost:9200}
ES_BACKUP_DIR=${ES_BACKUP_DIR:-/mnt/backup/elasticsearch/alien_backup} # under path.repo, in the folder elasticsearch owns
ES_AUTH=${ES_AUTH:-}                                    # user:password, when ES has security

curl_es() {
	if [ -n "$ES_AUTH" ]; then
		curl -sS -u "$ES_AUTH" -H 'Content-Type: application/json' "$@"
	else
		curl -sS -H 'Content-Type: application/json' "$@"
	fi
}

BACKUP_NAME=$(date '+%d_%m_%Y_%H_%M')
FS_BACKUP_DIR=$FILES_DIR/$BACKUP_NAME

# setup elastic search snapshot repository
curl_es -XPUT "$ES_URL/_snapshot/alien_backup" -d "{
  \"type\": \"fs\",
  \"settings\": {
    \"location\": \"$ES_BACKUP_DIR\",
    \"compress\": true
  }
}"
echo

# trigger elastic search data backup (asynchronous)
RESULT=$(curl_es -XPUT "$ES_URL/_snapshot/alien_backup/$BACKUP_NAME?wait_for_completion=false")
SUCCESS=$(echo "$RESULT" | grep "{\"accepted\":true}" || true)

if [ -z "$SUCCESS" ]; then
	echo "Failed to backup Elastic Search"
	echo "$RESULT"
	exit 1
fi

# Copy file system data
mkdir -p "$FS_BACKUP_DIR"
cp -r "$ALIEN_DIR"/. "$FS_BACKUP_DIR"/

# wait until elastic search backup is complete
curl_es -XGET "$ES_URL/_snapshot/alien_backup/$BACKUP_NAME/_status"
echo

# (deviation) poll until the snapshot is done
while :; do
	state=$(curl_es "$ES_URL/_snapshot/alien_backup/$BACKUP_NAME" | grep -o '"state":"[A-Z_]*"' | head -n 1 | cut -d'"' -f4)
	case $state in
	SUCCESS) break ;;
	FAILED | PARTIAL)
		echo "snapshot $BACKUP_NAME: $state"
		exit 1
		;;
	esac
	sleep 5
done
echo "backup $BACKUP_NAME done"
